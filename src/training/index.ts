export * from './model/index.ts';
export * from './service/index.ts';
