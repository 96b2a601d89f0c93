/**
 * MFTMA — replica mean-field theoretic manifold analysis (Chung, Lee & Sompolinsky PRX 2018;
 * Cohen et al. Nat. Commun. 2020). Public surface of the module; see shared/specs/mftma.md.
 */
export { manifoldAnalysis, summarize, centerGeometry, reduceManifold } from './mftma';
export type { MftmaInput, MftmaOptions, MftmaResult, MftmaManifoldResult, CenterGeometry } from './mftma';
export { analyzeManifold, CASE_FAST, CASE_INTERIOR, CASE_QP } from './manifold';
export type { ReducedManifold, ManifoldOptions, ManifoldEstimate } from './manifold';
export { centerCorrelation, chooseMaxK, searchCommonCenters, stiefelCg, alignmentCost, alignmentProblem } from './centers';
export type { CenterSearchOptions, CenterSearchResult, StiefelCgOptions, StiefelCgResult } from './centers';
export { nnls, householderQR } from './linalg';
