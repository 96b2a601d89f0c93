/**
 * Training in the lab (issue #25): architectures with seeded PyTorch-default initialisation
 * (arch.ts), PyTorch's BatchNorm (batchnorm.ts), optimisers (optim.ts) and schedules
 * (schedule.ts), the training methods (methods.ts), the steppable trainer (trainer.ts), the
 * definition shared by the Train view, its URL and `layerwise train` (definition.ts), and
 * export as tfjs model files the loader reads back (export.ts).
 */
export { ARCH_NAMES, buildArch, createNet, describeArch, initialWeights, type ArchName, type ArchSpec, type Net } from './arch';
export { trainSchema, type TrainValues } from './definition';
export { modelMftmaProbe, modelTsneProbe, probeLayerOf, warmTsne, type TrainMftmaProbe, type TrainTsneProbe } from './embedding';
export { exportModelFiles, kerasTopology, WEIGHTS_FILE, type CardInfo, type ModelFiles } from './export';
export { defaultStepSize, tradesLoss, type MethodName } from './methods';
export { learningRate, epsFraction, type ScheduleName } from './schedule';
export { createTrainer, runTraining, stepsPerEpochOf, type ProbeMetrics, type StepReport, type Trainer, type TrainLog, type TrainOptions, type TrainRunControl } from './trainer';
