/**
 * The TreeSHAP sweeps of model/treeshap.ts (q = 4 quadrature nodes, the
 * default forest's case) compiled to WebAssembly per model, with the model's
 * tables in the module's memory. The same operations in the same order as
 * the JavaScript sweep4, so the same doubles: WebAssembly's f64 arithmetic is
 * IEEE-754 like JavaScript's, and nothing here is reassociated or fused.
 * Why: explaining an alert is ~50,000 node visits (100 trees, two sweeps),
 * and the JavaScript loops paid bounds checks and reloads on every one
 * (`npm run bench:explain`; `stream --explain` spends most of its time here).
 */
import { buildModule, Code } from './wasm';
import type { FlatForest } from './forest-kernel';

/** The per-model tables the sweeps read (model/treeshap.ts ShapTables, q = 4). */
export interface ShapKernelTables {
  ratio: Float64Array;
  diff: Float64Array;
  prevEdge: Int32Array;
  maxTreeNodes: number;
}

/** rows per call: their float32 inputs and contributions stay in cache while every tree's tables stream by */
export const SHAP_KERNEL_BLOCK = 64;

interface ShapLayout {
  feat: number;
  thr: number;
  right: number;
  leaf: number;
  prev: number;
  ratio: number;
  diff: number;
  treeStart: number;
  x: number;
  phi: number;
  g: number;
  h: number;
  oEdge: number;
  kase: number;
  end: number;
}

function shapLayout(nodes: number, trees: number, d: number, maxTreeNodes: number): ShapLayout {
  let at = 0;
  const take = (bytes: number) => {
    const start = at;
    at += Math.ceil(bytes / 16) * 16;
    return start;
  };
  const feat = take(4 * nodes);
  const thr = take(4 * nodes);
  const right = take(4 * nodes);
  const leaf = take(8 * nodes);
  const prev = take(4 * nodes);
  const ratio = take(8 * 12 * nodes);
  const diff = take(8 * 12 * nodes);
  const treeStart = take(4 * (trees + 1));
  const x = take(4 * SHAP_KERNEL_BLOCK * d);
  const phi = take(8 * SHAP_KERNEL_BLOCK * d);
  const g = take(32 * maxTreeNodes);
  const h = take(32 * maxTreeNodes);
  const oEdge = take(maxTreeNodes);
  const kase = take(maxTreeNodes);
  return { feat, thr, right, leaf, prev, ratio, diff, treeStart, x, phi, g, h, oEdge, kase, end: at };
}

/** explain(m): the forward and backward sweep of every tree for rows 0..m-1 of the x block, adding into phi */
function generate(trees: number, d: number, at: ShapLayout): Uint8Array {
  const c = new Code([['m', 'i32']]);
  for (const n of ['tr', 's', 'e', 'i', 'k', 'f', 'xb', 'pb', 'gp', 'cc', 'fol', 'pe', 'oPrev', 'cs', 'lc', 'rb', 'gc', 'goLeft', 'hk', 'hl', 'hr', 'dl', 'dr', 'l', 'r', 'trees']) c.local(n, 'i32');
  for (const n of ['g0', 'g1', 'g2', 'g3', 'a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3', 'v', 'acc']) c.local(n, 'f64');
  const G = ['g0', 'g1', 'g2', 'g3'];
  const A = ['a0', 'a1', 'a2', 'a3'];
  const B = ['b0', 'b1', 'b2', 'b3'];
  /** local index x * 32 + base, for the G and H rows (4 doubles per node) */
  const row32 = (local: () => void, base: number) => {
    local();
    c.i32(5).shl().i32(base).add();
  };
  /** one child edge: its case, o and G (sweep4's loop body over `side`) */
  const child = (setChild: () => void, setFollows: () => void) => {
    setChild();
    c.set('cc');
    setFollows();
    c.set('fol');
    c.get('cc').i32(2).shl().i32Load({ offset: at.prev }).set('pe');
    c.get('pe').i32(0).ltS().ifThen();
    c.i32(1).set('oPrev');
    c.elseBranch();
    c.get('pe').get('s').sub().i32Load8U({ offset: at.oEdge }).set('oPrev');
    c.end();
    // cs = oPrev === 0 ? CASE_00 : follows ? CASE_11 : CASE_10
    c.i32(0).i32(1).i32(2).get('fol').select().get('oPrev').eqz().select().set('cs');
    c.get('cc').get('s').sub().set('lc');
    c.get('lc').get('cs').i32Store8({ offset: at.kase });
    c.get('lc').get('oPrev').get('fol').and().i32Store8({ offset: at.oEdge });
    // rb = ((cc * 3 + cs) * 4) doubles
    c.get('cc').i32(3).mul().get('cs').add().i32(5).shl().set('rb');
    row32(() => c.get('lc'), at.g);
    c.set('gc');
    for (let j = 0; j < 4; j++) c.get('gc').get(G[j]).get('rb').f64Load({ offset: at.ratio + 8 * j }).f64Mul().f64Store({ offset: 8 * j });
  };

  c.i32(trees).set('trees');
  c.forLoop('tr', () => c.i32(0), 'trees', 1, () => {
    c.get('tr').i32(2).shl().i32Load({ offset: at.treeStart }).set('s');
    c.get('tr').i32(2).shl().i32Load({ offset: at.treeStart + 4 }).set('e');
    c.forLoop('i', () => c.i32(0), 'm', 1, () => {
      c.get('i').i32(4 * d).mul().i32(at.x).add().set('xb');
      c.get('i').i32(8 * d).mul().i32(at.phi).add().set('pb');
      // the root: G = 1, o = 1
      for (let j = 0; j < 4; j++) c.i32(0).f64(1).f64Store({ offset: at.g + 8 * j });
      c.i32(0).i32(1).i32Store8({ offset: at.oEdge });
      // forward: each internal node hands G to its children
      c.forLoop('k', () => c.get('s'), 'e', 1, () => {
        c.get('k').i32(2).shl().i32Load({ offset: at.feat }).tee('f').i32(0).geS().ifThen();
        c.get('xb').get('f').i32(2).shl().add().f32Load().get('k').i32(2).shl().f32Load({ offset: at.thr }).f32Le().set('goLeft');
        row32(() => c.get('k').get('s').sub(), at.g);
        c.set('gp');
        for (let j = 0; j < 4; j++) c.get('gp').f64Load({ offset: 8 * j }).set(G[j]);
        child(
          () => c.get('k').i32(1).add(),
          () => c.get('goLeft'),
        );
        child(
          () => c.get('k').i32(2).shl().i32Load({ offset: at.right }),
          () => c.get('goLeft').i32(1).xor(),
        );
        c.end();
      });
      // backward: H bottom-up; each edge adds sum_q H_c w_q (a_e - a_prev) to its feature
      c.get('e').i32(1).sub().set('k');
      c.block().loop();
      c.get('k').get('s').ltS().brIf(1);
      row32(() => c.get('k').get('s').sub(), at.h);
      c.set('hk');
      c.get('k').i32(2).shl().i32Load({ offset: at.feat }).tee('f').i32(0).ltS().ifThen();
      {
        c.get('k').i32(3).shl().f64Load({ offset: at.leaf }).set('v');
        row32(() => c.get('k').get('s').sub(), at.g);
        c.set('gp'); // G of node k
        for (let j = 0; j < 4; j++) c.get('hk').get('v').get('gp').f64Load({ offset: 8 * j }).f64Mul().f64Store({ offset: 8 * j });
      }
      c.elseBranch();
      {
        c.get('k').i32(1).add().set('l');
        c.get('k').i32(2).shl().i32Load({ offset: at.right }).set('r');
        row32(() => c.get('l').get('s').sub(), at.h);
        c.set('hl');
        row32(() => c.get('r').get('s').sub(), at.h);
        c.set('hr');
        c.get('l').i32(3).mul().get('l').get('s').sub().i32Load8U({ offset: at.kase }).add().i32(5).shl().set('dl');
        c.get('r').i32(3).mul().get('r').get('s').sub().i32Load8U({ offset: at.kase }).add().i32(5).shl().set('dr');
        for (let j = 0; j < 4; j++) {
          c.get('hl').f64Load({ offset: 8 * j }).set(A[j]);
          c.get('hr').f64Load({ offset: 8 * j }).set(B[j]);
        }
        for (let j = 0; j < 4; j++) c.get('hk').get(A[j]).get(B[j]).f64Add().f64Store({ offset: 8 * j });
        // a0 dl0 + b0 dr0 + a1 dl1 + b1 dr1 + ..., left to right as in sweep4
        c.get(A[0]).get('dl').f64Load({ offset: at.diff }).f64Mul();
        c.get(B[0]).get('dr').f64Load({ offset: at.diff }).f64Mul().f64Add();
        for (let j = 1; j < 4; j++) {
          c.get(A[j]).get('dl').f64Load({ offset: at.diff + 8 * j }).f64Mul().f64Add();
          c.get(B[j]).get('dr').f64Load({ offset: at.diff + 8 * j }).f64Mul().f64Add();
        }
        c.set('acc');
        c.get('pb').get('f').i32(3).shl().add().set('gp'); // address of phi[row, f] (gp reused as a scratch address)
        c.get('gp').get('gp').f64Load().get('acc').f64Add().f64Store();
      }
      c.end();
      c.get('k').i32(1).sub().set('k');
      c.br(0).end().end();
    });
  });
  return buildModule([{ name: 'explain', params: [['m', 'i32']], code: c }], Math.ceil(at.end / 65536));
}

/** A compiled TreeSHAP kernel for one forest and its q = 4 tables. */
export class ShapKernel {
  private readonly explainBlock: (m: number) => void;
  private readonly x: Float32Array;
  private readonly phi: Float64Array;

  constructor(
    forest: FlatForest,
    tables: ShapKernelTables,
  ) {
    const { treeStart, feature, threshold, right, leafPath, nFeatures: d } = forest;
    const nodes = feature.length;
    const trees = treeStart.length - 1;
    const at = shapLayout(nodes, trees, d, tables.maxTreeNodes);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(generate(trees, d, at)));
    // not named `exports`: compiled to CommonJS, that would shadow the module's own exports (SHAP_KERNEL_BLOCK)
    const wasm = instance.exports as unknown as { memory: WebAssembly.Memory; explain(m: number): void };
    const mem = wasm.memory.buffer;
    new Int32Array(mem, at.feat, nodes).set(Int32Array.from(feature));
    new Float32Array(mem, at.thr, nodes).set(threshold);
    new Int32Array(mem, at.right, nodes).set(right);
    new Float64Array(mem, at.leaf, nodes).set(leafPath);
    new Int32Array(mem, at.prev, nodes).set(tables.prevEdge);
    new Float64Array(mem, at.ratio, 12 * nodes).set(tables.ratio);
    new Float64Array(mem, at.diff, 12 * nodes).set(tables.diff);
    new Int32Array(mem, at.treeStart, trees + 1).set(treeStart);
    this.x = new Float32Array(mem, at.x, SHAP_KERNEL_BLOCK * d);
    this.phi = new Float64Array(mem, at.phi, SHAP_KERNEL_BLOCK * d);
    this.explainBlock = wasm.explain;
  }

  /**
   * The summed contributions (before averaging over trees) of up to
   * SHAP_KERNEL_BLOCK rows: `rows` is their row-major float64 input, turned
   * into float32 as the forest compares. @returns a view of the kernel's memory, valid until the next call
   */
  sums(rows: Float64Array, m: number): Float64Array {
    this.x.set(rows);
    this.phi.fill(0);
    this.explainBlock(m);
    return this.phi;
  }
}
