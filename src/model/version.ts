/** Version of the protocol model; written into every exported Lua file's header. */
export const MODEL_VERSION = '0.1.0';
