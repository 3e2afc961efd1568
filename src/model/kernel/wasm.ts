/**
 * A minimal WebAssembly binary writer: just what the forest's scoring kernel
 * needs (one exported memory, functions over i32/f32/f64 locals, loads,
 * stores, arithmetic, blocks and loops). Kernels are generated per model with
 * its constants inlined, so no toolchain and no generated binary live in the
 * repository.
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`uleb: ${n}`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  if (!Number.isInteger(n)) throw new RangeError(`sleb: ${n}`);
  const out: number[] = [];
  let more = true;
  while (more) {
    let b = n & 0x7f;
    n >>= 7; // arithmetic shift: i32 range only
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) more = false;
    else b |= 0x80;
    out.push(b);
  }
  return out;
}

function name(s: string): number[] {
  const bytes = Array.from(Buffer.from(s, 'utf8'));
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** alignment is log2 of the access size; offsets are byte offsets added to the address */
type MemArg = { offset?: number };

/** Instruction builder for one function body. Local indices: params first, then declared locals. */
export class Code {
  readonly bytes: number[] = [];
  private readonly names = new Map<string, number>();
  private readonly declared: ValType[] = [];

  constructor(params: Array<[string, ValType]>) {
    params.forEach(([n], i) => this.names.set(n, i));
    this.paramCount = params.length;
  }

  private readonly paramCount: number;

  /** declare a local and return its name (for readability at call sites) */
  local(n: string, type: ValType): string {
    if (this.names.has(n)) throw new Error(`local ${n} declared twice`);
    this.names.set(n, this.paramCount + this.declared.length);
    this.declared.push(type);
    return n;
  }

  localDecls(): number[] {
    // one entry per local keeps the encoding trivial
    return vec(this.declared.map((t) => [1, VALTYPE[t]]));
  }

  private idx(n: string): number {
    const i = this.names.get(n);
    if (i === undefined) throw new Error(`unknown local ${n}`);
    return i;
  }

  private emit(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  get(n: string): this {
    return this.emit(0x20, ...uleb(this.idx(n)));
  }
  set(n: string): this {
    return this.emit(0x21, ...uleb(this.idx(n)));
  }
  tee(n: string): this {
    return this.emit(0x22, ...uleb(this.idx(n)));
  }
  i32(v: number): this {
    return this.emit(0x41, ...sleb(v | 0));
  }
  f64(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.emit(0x44, ...b);
  }

  // memory
  i32Load(m: MemArg = {}): this {
    return this.emit(0x28, 2, ...uleb(m.offset ?? 0));
  }
  f32Load(m: MemArg = {}): this {
    return this.emit(0x2a, 2, ...uleb(m.offset ?? 0));
  }
  f64Load(m: MemArg = {}): this {
    return this.emit(0x2b, 3, ...uleb(m.offset ?? 0));
  }
  /** one byte, zero-extended to i32 */
  i32Load8U(m: MemArg = {}): this {
    return this.emit(0x2d, 0, ...uleb(m.offset ?? 0));
  }
  i32Store8(m: MemArg = {}): this {
    return this.emit(0x3a, 0, ...uleb(m.offset ?? 0));
  }
  f32Store(m: MemArg = {}): this {
    return this.emit(0x38, 2, ...uleb(m.offset ?? 0));
  }
  f64Store(m: MemArg = {}): this {
    return this.emit(0x39, 3, ...uleb(m.offset ?? 0));
  }

  // i32 arithmetic and comparisons
  add(): this {
    return this.emit(0x6a);
  }
  sub(): this {
    return this.emit(0x6b);
  }
  mul(): this {
    return this.emit(0x6c);
  }
  shl(): this {
    return this.emit(0x74);
  }
  geU(): this {
    return this.emit(0x4f);
  }
  /** signed i32 comparisons */
  ltS(): this {
    return this.emit(0x48);
  }
  geS(): this {
    return this.emit(0x4e);
  }
  eqz(): this {
    return this.emit(0x45);
  }
  and(): this {
    return this.emit(0x71);
  }
  xor(): this {
    return this.emit(0x73);
  }
  ltU(): this {
    return this.emit(0x49);
  }
  /** select(a, b, cond) = cond ? a : b (a conditional move, no branch) */
  select(): this {
    return this.emit(0x1b);
  }
  // floats
  f32Gt(): this {
    return this.emit(0x5e);
  }
  f32Le(): this {
    return this.emit(0x5f);
  }
  f64Add(): this {
    return this.emit(0xa0);
  }
  f64Mul(): this {
    return this.emit(0xa2);
  }
  f32DemoteF64(): this {
    return this.emit(0xb6);
  }

  // SIMD (128-bit)
  private simd(op: number, ...rest: number[]): this {
    return this.emit(0xfd, ...uleb(op), ...rest);
  }
  v128Load(m: MemArg = {}): this {
    return this.simd(0x00, 4, ...uleb(m.offset ?? 0));
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  /** bitselect(v1, v2, mask) = v1 where mask bits are set, else v2 */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  i32x4ShrU(): this {
    return this.simd(0xad);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(0x1b, lane);
  }

  // control
  block(): this {
    return this.emit(0x02, 0x40);
  }
  loop(): this {
    return this.emit(0x03, 0x40);
  }
  /** if (condition on the stack) ... [elseBranch() ...] end */
  ifThen(): this {
    return this.emit(0x04, 0x40);
  }
  elseBranch(): this {
    return this.emit(0x05);
  }
  end(): this {
    return this.emit(0x0b);
  }
  br(depth: number): this {
    return this.emit(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.emit(0x0d, ...uleb(depth));
  }

  /**
   * `for (counter = from; counter < limit; counter += step) body()` where limit is
   * a local; body runs inside block+loop, so a `br` inside it must count them.
   */
  forLoop(counter: string, from: () => void, limit: string, step: number, body: () => void): this {
    from();
    this.set(counter);
    this.block().loop();
    this.get(counter).get(limit).geU().brIf(1);
    body();
    this.get(counter).i32(step).add().set(counter);
    this.br(0).end().end();
    return this;
  }
}

export interface FunctionDef {
  name: string;
  params: Array<[string, ValType]>;
  code: Code;
}

/** A module with one exported memory ("memory") and the given exported functions (no results). */
export function buildModule(functions: FunctionDef[], memoryPages = 1): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map(([, t]) => [VALTYPE[t]])), 0]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(memoryPages)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(
      10,
      vec(
        functions.map((f) => {
          const body = [...f.code.localDecls(), ...f.code.bytes, 0x0b];
          return [...uleb(body.length), ...body];
        }),
      ),
    ),
  ];
  return Uint8Array.from(bytes);
}
