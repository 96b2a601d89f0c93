export * from './special';
export * from './linalg';
export * from './probe';
export * from './mi';
