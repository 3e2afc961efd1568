/**
 * The public API of the library behind the notebooks, listed name by name.
 * Notebooks import the compiled form: `import { ... } from '../dist'`.
 * Internals and test hooks are not here: tests import the modules directly.
 */

// Foundations: matrices, parameters and their rules, seeded randomness, number formatting
export { asMatrix, createMatrix, fromRows, getColumn, getRow, isMatrix, selectRows, toRows, vstack, type Matrix } from './core/matrix';
export { applyOverrides, checkRule, DEFAULT_PARAMS, describeParams, describeRule, FOREST_PARAMETER_RULES, loadParams, PARAM_KEYS, PARAM_RULES, ParameterError, PARAMS_ENV, PARAMS_FILE_ENV, parseAssignments, PCA_PARAMETER_RULES, resolveMaxSamples, validateForestOptions, validateParams, type LoadedParams, type LoadParamsOptions, type ParameterRule, type ParameterRules, type ParamKey, type Params } from './params/params';
export { createRng, sampleWithoutReplacement, type Rng } from './core/rng';
export { formatFixed, pyFloatRepr, pyStr } from './core/pyformat';
export { LIBRARY_NAME, LIBRARY_VERSION } from './core/version';

// Where rows come from: simulation, flow records (NSL-KDD), text files
export { ANOMALY, featureNames, NORMAL, rowsOfClass, simulateBatch, simulateTraffic, type BatchOptions, type Dataset } from './data/simulate';
export { datasetToCsv, matrixToCsv, parseDatasetCsv } from './data/csv';
export { FileReadError, readTextFile } from './data/textfile';
export { ATTACK_FAMILIES, attackFamily, categoricalColumn, countBy, filterFlowRecords, FlowFormatError, flowRecordRow, inferCsvSchema, NSL_KDD_FAMILIES, NSL_KDD_FEATURES, NSL_KDD_SCHEMA, parseFlowRecords, readCsvFlowRecords, readFlowRecords, type ColumnKind, type FlowColumn, type FlowRecords, type FlowSchema, type ParseFlowOptions } from './data/flows';
export { loadNslKdd, NSL_KDD_DATA_DIR, NSL_KDD_DIR_ENV, NSL_KDD_FILES, nslKddDataDir, nslKddPath } from './data/nslkdd-files';
export { EncodedRecordParser, InputError, RecordParser, type InputFormat, type LineOutcome } from './data/records';
export { joinLines, LineBlock, LineSplitter, TextLines, type Lines } from './data/line-splitter';

// What learns: scaler, PCA, the Isolation Forest, encoders, scikit-learn import
export { PCAModel, StandardScaler, type PCAJSON, type StandardScalerJSON } from './model/preprocess';
export { averagePathLength, decisionFromScores, EULER_GAMMA, IsolationForest, offsetFromScores, percentile, predictFromDecision, type AnomalyDetector, type IsolationForestJSON, type IsolationForestOptions, type ParallelOptions } from './model/forest';
export { MlIsolationForestAdapter } from './model/ml-forest-adapter';
export { isolationPath, meanPathLengths, type IsolationPath, type IsolationStep } from './model/isolation';
export { contourSegments, decisionGrid, firstTwoColumns, type DecisionGrid, type DecisionGridOptions, type Segment } from './model/decision-map';
export { OTHER_CATEGORY, RecordEncoder, type CategoricalEncoding, type EncodedColumnJSON, type RecordEncoderJSON, type RecordEncoderOptions, type UnseenCategories } from './model/encoder';
export { type SklearnForestExport, type SklearnTreeExport } from './model/sklearn-import';

// Why a row was flagged: exact TreeSHAP and its presentation
export { buildShapTables, gaussLegendre01, treeShap, treeShapRows, type ShapExplanation, type ShapTables } from './model/treeshap';
export { groupContributions, topDrivers, toScoreUnits, type Driver, type FeatureGroup, type ScoreUnitExplanation } from './explain/contributions';
export { alertDrivers, alertDriversJson, describeDriver, explainAlerts, explainRecords, explanationSteps, featureImportance, formatRawValue, originalFeatureGroups, type AlertDriver, type AlertExplanation, type ContributionUnits, type ExplainableModel, type FeatureImportance, type RawValue, type RecordExplanations } from './explain/alerts';

// Metrics with scikit-learn's definitions
export { auc, averagePrecision, binaryClfCurve, classificationReport, classificationReportData, confusionMatrix, falseAlarmRate, precisionRecallCurve, precisionRecallFscoreSupport, rocAuc, rocCurve, summarizeDetection, type AverageScores, type ClfCurve, type ConfusionMatrix, type DetectionSummary, type Label, type LabelOptions, type PerClassScores, type PrCurve, type RankingOptions, type ReportData, type ReportOptions, type ReportRow, type RocCurve } from './eval/metrics';

// Model bundles (checksummed, optionally signed) and the stage files that link the notebooks
export { ArtifactError, BUNDLE_FORMAT, BUNDLE_READABLE_VERSIONS, BUNDLE_SCHEMA_VERSION, bundleChecksum, createBundle, loadBundle, MODEL_KEY_ENV, ModelKeyError, parseBundle, readModelKey, saveBundle, serializeBundle, signBundle, type ArtifactErrorCode, type BundleKeyOptions, type BundleParts, type LoadedModel, type ModelBundle, type ModelKey, type ReadModelKeyOptions, type SavedBundle, type TrainingMetrics } from './persist/bundle';
export { ARTIFACTS_ENV, artifactsDir, MissingArtifactError, PRODUCERS, STAGE_FORMAT, STAGE_SCHEMA_VERSION, StaleArtifactError, Workspace, type ArtifactName, type ForestArtifact, type MetricsArtifact, type ParamsArtifact, type PredictionsArtifact, type PreprocessArtifact, type StageFile, type StageHeader } from './persist/workspace';
export { hmacSignature, isWellFormedSignature, MIN_KEY_BYTES, SIGNATURE_PREFIX, signatureMatches } from './persist/signing';

// The one scoring pipeline from a loaded bundle, and the lines a scored record becomes
export { scoreRecords, ScoringPipeline, type PipelineOptions, type RecordLineParser, type ScoredRows } from './scoring/pipeline';
export { alertRecord, alertRecordJson, rejectLine, type RecordOrigin } from './scoring/alert-lines';

// Whole runs: the reference pipeline, protocols, sweeps, real traffic
export { bundleFromPipeline, runPipeline, type PipelineResult } from './workflow/pipeline';
export { evaluateProtocol, protocolRows, type ProtocolOptions, type ProtocolResult } from './workflow/protocol';
export { sweepParameter, type SweepResult } from './workflow/sweep';
export { detectionAtFpr, detectionByAttack, evaluateRealTraffic, familyOrder, fitAndScoreTest, prepareRealTraffic, REAL_TRAFFIC_FOREST, realTrafficBundle, validatedDetection, validationSplit, preprocessingGrid, scalingEffect, type ValidatedDetection, type ValidationSplit, type PreprocessingChoice, type ScalingEffect, type FirstComponent, type AttackDetectionRow, type ForestSettings, type PreparedTraffic, type RealTrafficEvaluation, type RealTrafficOptions, type SeedResult, type Spread, type TrainOn } from './workflow/real-traffic';

// Scoring records as they arrive: batches, the Redis Streams consumer group
export { anomalyRecords, processBatch, processStream, simulatedStream, timelinePoint, type AnomalyRecord, type BatchInput, type BatchResult, type BatchStats, type SimulatedStreamOptions, type StreamTotals, type StreamUpdate, type TimelinePoint } from './stream/batch';
export { FailoverDrillError, readCompleteNdjson, runFailoverDrill, type DrillConsumer, type DrillRecords, type FailoverDrillOptions, type FailoverDrillResult, type LedgerLine, type RejectLine } from './stream/failover-drill';
export { embeddedRedisServer, findRedisServer, MIN_REDIS_MAJOR, RedisServerMissingError, redisServerVersion, startRedisServer, type RedisServerCommand, type RedisServerHandle, type StartRedisOptions } from './stream/redis-server';
export { type RecordSource, type SourceChunk, type SourceStats } from './stream/source';
export { LineSource, type LineSourceOptions } from './stream/line-source';
export { FileOutput, PipeOutput, RedisStreamOutput, type DurableOutput } from './stream/durable-output';
export { startScoringLoop, type LoopOptions, type LoopSinks, type ScoringLoop, type StopReason, type StreamSummary } from './stream/loop';
export { connectRedis, RedisSourceError, RedisStreamSource, type RedisSourceOptions } from './stream/redis-source';
export { publishLines, type PublishOptions, type PublishSummary } from './stream/redis-publisher';
export { createBatchScorer, type BatchScorer, type ScoredBatch } from './stream/scorer';

// What a notebook shows: setup, displays, tables, Vega-Lite plots
export { displayBundle, htmlBundle, inKernel, LiveDisplay, newLiveDisplay, type MimeBundle } from './notebook/display';
export { anomalyRankingSpec, batchTimelineSpec, COLORS, confusionHeatmapSpec, decisionMapSpec, explanationWaterfallSpec, failoverSpec, familyDetectionSpec, featureHistogramsSpec, pathLengthHistogramSpec, pcaPredictionDensitySpec, pcaScatterSpec, rankingCurvesSpec, renderSvg, saveFigure, scoreHistogramSpec, showPlot, sweepSpec, variantRankingSpec, VEGALITE_MIME, type DecisionMapOptions, type FailoverBar, type FamilyDetectionRow, type PcaDensityOptions, type PcaScatterOptions, type RankedVariant, type SweepRow, type TimelineBaseline, type VegaLiteSpec, type WaterfallStep } from './notebook/plots';
export { alertGroupRows, attackDetectionRows, baselineRows, baseRateRows, categoryCountRows, categorySummary, classCountRows, familyDetectionPoints, familyDetectionRows, featureImportanceRows, featureRangeRows, identicalRows, novelAttackLines, preprocessingRows, scalingEffectLines, topAlertRows, validatedDetectionRows } from './notebook/real-traffic-tables';
export { baselineComparison, type BaselineComparison, type BaselineOptions, type DetectorResult } from './workflow/baselines';
export { LogisticRegression, type LogisticRegressionOptions } from './model/logistic-regression';
export { compareForests, type ForestComparisonRow } from './workflow/forest-comparison';
export { forestComparisonRows, confusionRows, dataFrameRows, describeColumns, falseAlarmPlacementRows, htmlTable, isolationPathRows, matrixRows, paramsTable, reportRows, scoreRangeRows, showTable, textTable, treePathRows, type Column, type TableOptions, type TableRow } from './notebook/tables';
export { notebookSetup, resolveNotebookParams, NotebookRun, type NotebookContext, type NotebookOutcome, type NotebookSetupOptions } from './notebook/setup';
export { encoderFeatureGroups, featureUsage, featureUsageTable, sparseFeatureRows, sparseFeatureTable, unseenCategoryRows, unseenCategoryTable, type FeatureUsage, type SparseFeatureRow, type UnseenCategoryRow } from './explain/feature-usage';
export { categoryCounts, featureRanges, identicalAcrossLabels, novelAttacks, type CategoryCount, type FeatureRange, type IdenticalRecords, type NovelAttacks } from './data/flow-stats';
export { baseRate, labelsAtThreshold, rowsBelow, thresholdAtFpr, type BaseRate } from './eval/metrics';
// experiments you can compare: the run log, sweeps that record their runs, tables and charts across runs, MLflow
export { RunStore, RunNotFoundError, RUN_LOG, type RunLog } from './experiments/run-store';
export { RUN_FORMAT, RUN_VERSION, type RunRecord, type DataFingerprint, type ModelFingerprint, type RunCommand } from './experiments/run-record';
export { detectionMetrics, RunRecorder, RUN_PARENT_ENV, type RunOutcome, type RunStartOptions } from './experiments/recorder';
export { sweepAndRecord, runRecordedSweep, type RecordedSweep } from './experiments/record-sweep';
export { captureMetrics, realTrafficMetrics } from './experiments/evaluation-metrics';
export { compareRuns, differingParams, selectRuns, type RunFilter } from './experiments/run-table';
export { MlflowClient, MlflowError, MLFLOW_ENV, mlflowExperimentName } from './experiments/mlflow';
export { comparisonTable, recordedRuns, runsChartSpec, runTable, showRunComparison, showRuns, type ShowRunsOptions } from './notebook/runs-view';
export { describeStreamAlarms, StreamDashboard, streamTotalsRows } from './notebook/stream-dashboard';
export { failoverBars, failoverConsumerRows, failoverRecordRows } from './notebook/failover-view';
// packets and logs into flows (notebook 12): captures, the flow meter, windows, Zeek, ground truth
export { readFlowFile, readFlows, formatFlowInputSummary, FlowInputError, type FlowInputSummary, type FlowInputOptions, type FlowInputFormat } from './capture/flow-input';
export { FLOW_FIELDS, WINDOW_FIELDS, NFSTREAM_NUMERIC_FIELDS, type FlowRecord } from './capture/flow-record';
export { DEFAULT_FLOW_FEATURES, DEFAULT_FLOW_LOG1P, FLOW_FEATURE_SETS, PER_FLOW_FEATURES, flowColumns, type FlowFeatureSet } from './capture/feature-sets';
export { readGroundTruth, labelFlows, parseGroundTruth, type Episode } from './capture/ground-truth';
export { FlowMeter, connectionState, type FlowMeterOptions, type Accounting } from './capture/flow-meter';
export { WindowFeatures, type WindowOptions } from './capture/windows';
export { flowCsvLine, flowJsonLine, FLOW_CSV_HEADER } from './capture/flow-lines';
export { CAPTURE_FOREST, captureBundle, compareFeatureSets, episodeDrivers, evaluateCaptures, missedFlows, type MissedFlow, prepareCaptures, FEATURE_VARIANTS, type CaptureEvaluation, type EpisodeDrivers, type LabelledFlows, type PreparedCaptures } from './workflow/capture-evaluation';
export { flowTimelineSpec, type TimelineEpisode } from './notebook/plots';
export { labFiles, LAB_DATA_DIR, LAB_DIR_ENV, type LabFiles } from './capture/lab-files';
