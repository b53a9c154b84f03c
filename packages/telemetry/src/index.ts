export { NO_ENDPOINT, tracingDecision, tracesUrlOf, exporterChoice, instrumentationChoice, batchProcessorConfig, resourceAttributesProblem, type BatchProcessorConfig, type TracingDecision, type ExporterChoice, type ExporterProtocol } from './tracing-env.js';
export { redactedUrl, dropTraceHeaders, sqlOperationName } from './redaction.js';
export { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions, type FinishedTrace } from './otlp-receiver.js';
export { decodeProtobufTraces, spansOf, type ReceivedSpan, type AttributeValue, type OtlpTraceRequest } from './otlp-spans.js';
export { formatWaterfall, spanTree } from './waterfall.js';
