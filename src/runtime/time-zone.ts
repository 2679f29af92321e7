/**
 * The user's clock. A client puts the user's IANA time zone in the `$timezone` context variable
 * (`context.timezone`), and "today", "tomorrow", "friday" and `now()` then mean the user's day and
 * time, not the server's. The runtime does its calendar arithmetic with a Date's local fields, so
 * the zone's wall-clock time is returned as a Date whose local fields show it.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

/** The formatter for an IANA zone, or undefined when the zone is unknown. Only valid zones are kept (a few hundred exist). */
function formatFor(zone: string): Intl.DateTimeFormat | undefined {
  let f = formats.get(zone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    return undefined;
  }
  formats.set(zone, f);
  return f;
}

/**
 * `instant` as the wall-clock time of `zone`, in a Date's local fields; undefined when `zone` is
 * not an IANA time zone name.
 */
export function wallClock(instant: Date, zone: string): Date | undefined {
  const f = formatFor(zone);
  if (!f) return undefined;
  const part: Record<string, number> = {};
  for (const p of f.formatToParts(instant)) if (p.type !== 'literal') part[p.type] = Number(p.value);
  return new Date(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!, instant.getMilliseconds());
}

/** A Date's local fields as 'yyyy-MM-dd HH:mm:ss', the form now() gives. */
export function formatWallClock(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
