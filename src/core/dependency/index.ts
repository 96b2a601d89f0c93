export * from './special';
export * from './linalg';
export * from './probe';
export * from './mi';
export * from './project';
export * from './layers';
export * from './prefix';
export * from './gaussian-mi';
