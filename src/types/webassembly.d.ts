// The part of the WebAssembly JavaScript API the scoring kernel uses (Node 20 has it
// globally; TypeScript only declares it in the DOM library, which this project does not load).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
type BufferSource = ArrayBufferView | ArrayBuffer;
