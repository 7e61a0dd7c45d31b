export {
  cacheDir,
  ensureModel,
  ensureTinyModel,
  ggufProblem,
  isModelId,
  linkModel,
  type ModelFile,
  modelId,
  modelsCacheDir,
  storeModel,
} from './cache.ts';
export * from './format.ts';
export {
  BOS_ID,
  buildLlamaModel,
  byteToken,
  byteVocabulary,
  EOS_ID,
  type LlamaModelOptions,
  llamaModelFile,
  SPACE_ID,
  TINY_MODEL_OPTIONS,
  UNK_ID,
  VOCAB_SIZE,
} from './llama-model.ts';
export { Prng } from './prng.ts';
export {
  GgufFormatError,
  type GgufHeader,
  type GgufTensorInfo,
  metadataValue,
  readF32Tensor,
  readGgufHeader,
} from './reader.ts';
export { writeGguf } from './writer.ts';
