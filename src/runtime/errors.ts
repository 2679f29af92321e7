/** An expression that parsed but cannot be evaluated on this turn's values: the dialog author's mistake, logged. */
export class ExpressionError extends Error {}
