export * from './summary';
export * from './ranking';
export * from './manipulate';
