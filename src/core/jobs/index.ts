/**
 * The lab's analysis jobs by kind: what the worker dispatches to. Each is a pure core
 * function (ctx, params, control, emit) → result; partial results stream through emit.
 */
export { robustnessCurve } from './curve';
export type { CurveParams, CurveResult, CurvePoint, ModelCurve, ClassSummary } from './curve';
export { layerwiseTsne, TsneSession } from './tsne';
export type { TsneJobParams, TsneJobResult, LayerEmbedding, OverlapSummary } from './tsne';
export { jobSample, modelsOf } from './context';
export type { JobContext, Emit, JobSample } from './context';
export { logitAnalysis } from './logits';
export type { LogitsJobParams, LogitsJobResult, ModelLogits, SnapshotModel } from './logits';
export { dependencyAnalysis } from './dependency';
export type { DependencyJobParams, DependencyJobResult, ModelDependency } from './dependency';
export { mftmaAnalysis } from './mftma';
export type { MftmaJobParams, MftmaJobResult, MftmaPoint } from './mftma';
export { collisionJob } from './collision';
export type { CollisionExtraModel, CollisionJobParams, CollisionJobResult } from './collision';
