/**
 * The editor's state: the graph being edited (nodes, edges, the rest of the pipeline file),
 * its undo/redo history, and the server's validation of it. Components read it through
 * narrow selectors; every change to the pipeline goes through `change`, which records
 * history and bumps `revision` (what autosave and validation watch).
 */
import { applyEdgeChanges, applyNodeChanges, type Edge, type EdgeChange, type NodeChange, type XYPosition } from "@xyflow/react";
import { create } from "zustand";
import type { ModuleSpec, PipelineDocument, ValidationResult } from "../types";
import { documentToFlow, flowToDocument, isBeside, makeEdge, newNodeId, type DocumentMeta, type ModuleFlowNode, type ModuleNodeData } from "./graph";
import { besideOf } from "./ports";
import type { SpecsById } from "./ports";

interface Snapshot {
  meta: DocumentMeta;
  nodes: ModuleFlowNode[];
  edges: Edge[];
}

const HISTORY_LIMIT = 200;

/** What the clipboard holds: nodes and the edges between them. */
export interface Clip {
  nodes: ModuleFlowNode[];
  edges: Edge[];
}

export interface EditorState {
  specs: SpecsById;
  meta: DocumentMeta;
  nodes: ModuleFlowNode[];
  edges: Edge[];
  past: Snapshot[];
  future: Snapshot[];
  /** Bumped on every change to the pipeline (not on selection). */
  revision: number;
  /** Edits that coalesce (typing in one field) share a key; a new key starts a new undo step. */
  lastCoalesceKey: string | null;
  validation: ValidationResult | null;

  setSpecs(specs: ModuleSpec[]): void;
  load(doc: PipelineDocument): void;
  document(): PipelineDocument;
  change(edit: (state: Snapshot) => Partial<Snapshot>, coalesceKey?: string): void;
  onNodesChange(changes: NodeChange<ModuleFlowNode>[]): void;
  onEdgesChange(changes: EdgeChange[]): void;
  beginDrag(): void;
  addNode(moduleId: string, position: XYPosition): string;
  connect(source: string, sourcePort: string, target: string, targetPort: string): void;
  /** Put node `id` into the wire `edgeId`: the wire's source feeds `input`, and `output` feeds the wire's input. */
  insertIntoEdge(id: string, edgeId: string, input: string, output: string): void;
  /** Remove the input's edges (only the one from `source`, when given). */
  disconnect(target: string, targetPort: string, source?: string): void;
  updateNode(id: string, patch: Partial<ModuleNodeData>, coalesceKey?: string): void;
  setParam(id: string, name: string, value: unknown): void;
  renameNode(id: string, newId: string): string | null;
  deleteSelection(): void;
  selectOnly(ids: string[]): void;
  selectAll(): void;
  copySelection(): Clip | null;
  paste(clip: Clip, offset: XYPosition): void;
  undo(): void;
  redo(): void;
  setPositions(positions: Record<string, XYPosition>): void;
  /** Where nodes are, as an opened file's first layout: not an edit (nothing to undo or to
   * save for it), but the next save keeps it. */
  placeNodes(positions: Record<string, XYPosition>): void;
  setValidation(result: ValidationResult | null): void;
}

/** A new node's params: the required ones start from their defaults, so the form shows what will run. */
export function startingParams(spec: ModuleSpec | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const param of spec?.params ?? []) if (param.required && param.default !== null) params[param.name] = param.default;
  return params;
}

const snapshot = (s: Snapshot): Snapshot => ({ meta: s.meta, nodes: s.nodes, edges: s.edges });

const emptyMeta: DocumentMeta = { format: "atelier/pipeline@1", name: "" };

// Set between a pointer drag's start (which recorded the undo step) and its end.
let dragInProgress = false;

export const useEditor = create<EditorState>()((set, get) => ({
  specs: {},
  meta: emptyMeta,
  nodes: [],
  edges: [],
  past: [],
  future: [],
  revision: 0,
  lastCoalesceKey: null,
  validation: null,

  setSpecs: (specs) => set({ specs: Object.fromEntries(specs.map((s) => [s.id, s])) }),

  load: (doc) => {
    const { meta, nodes, edges } = documentToFlow(doc);
    set({ meta, nodes, edges, past: [], future: [], revision: 0, lastCoalesceKey: null, validation: null });
  },

  document: () => {
    const { meta, nodes, edges } = get();
    return flowToDocument(meta, nodes, edges);
  },

  change: (edit, coalesceKey) => {
    const state = get();
    const coalesce = coalesceKey !== undefined && coalesceKey === state.lastCoalesceKey;
    const past = coalesce ? state.past : [...state.past, snapshot(state)].slice(-HISTORY_LIMIT);
    set({ ...edit(snapshot(state)), past, future: [], revision: state.revision + 1, lastCoalesceKey: coalesceKey ?? null });
  },

  onNodesChange: (changes) => {
    const removes = changes.some((c) => c.type === "remove");
    // Moves are recorded once, when a drag starts (beginDrag); a finished move saves.
    const moved = changes.some((c) => c.type === "position" && c.dragging === false);
    if (removes) {
      get().change((s) => {
        const nodes = applyNodeChanges(changes, s.nodes);
        const ids = new Set(nodes.map((n) => n.id));
        return { nodes, edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
      });
      return;
    }
    const before = get().nodes;
    const nodes = applyNodeChanges(changes, before);
    if (!moved) {
      set({ nodes });
      return;
    }
    if (!dragInProgress) {
      // Arrow keys move nodes without a drag: each move is its own undo step. A click ends
      // with a "moved" change too, where nothing moved: that is no edit.
      if (samePositions(before, nodes)) set({ nodes });
      else get().change(() => ({ nodes }));
      return;
    }
    dragInProgress = false;
    const { past, revision } = get();
    const start = past[past.length - 1];
    if (start && samePositions(start.nodes, nodes)) set({ nodes, past: past.slice(0, -1) });
    else set({ nodes, revision: revision + 1 });
  },

  onEdgesChange: (changes) => {
    if (changes.some((c) => c.type === "remove")) get().change((s) => ({ edges: applyEdgeChanges(changes, s.edges) }));
    else set({ edges: applyEdgeChanges(changes, get().edges) });
  },

  beginDrag: () => {
    dragInProgress = true;
    const state = get();
    set({ past: [...state.past, snapshot(state)].slice(-HISTORY_LIMIT), future: [], lastCoalesceKey: null });
  },

  addNode: (moduleId, position) => {
    const id = newNodeId(moduleId, get().nodes.map((n) => n.id));
    const params = startingParams(get().specs[moduleId]);
    const node: ModuleFlowNode = { id, type: "module", position, data: { module: moduleId, params }, selected: true };
    get().change((s) => ({ nodes: [...s.nodes.map((n) => ({ ...n, selected: false })), node] }));
    return id;
  },

  connect: (source, sourcePort, target, targetPort) =>
    get().change((s) => {
      // A Web Service Input's edge and the input's data in a run stay side by side.
      const { kept } = besideOf(source, target, targetPort, s.nodes, s.edges, get().specs);
      const others = s.edges.filter((e) => e === kept || !(e.target === target && e.targetHandle === targetPort));
      return { edges: [...others, makeEdge(source, sourcePort, target, targetPort, kept !== undefined && !isBeside(kept))] };
    }),

  insertIntoEdge: (id, edgeId, input, output) =>
    get().change((s) => {
      const edge = s.edges.find((e) => e.id === edgeId);
      if (!edge) return {};
      return {
        edges: [
          ...s.edges.filter((e) => e !== edge),
          makeEdge(edge.source, edge.sourceHandle ?? "", id, input),
          makeEdge(id, output, edge.target, edge.targetHandle ?? ""),
        ],
      };
    }),

  disconnect: (target, targetPort, source) =>
    get().change((s) => ({
      edges: s.edges.filter((e) => !(e.target === target && e.targetHandle === targetPort && (source === undefined || e.source === source))),
    })),

  updateNode: (id, patch, coalesceKey) =>
    get().change(
      (s) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)) }),
      coalesceKey,
    ),

  setParam: (id, name, value) => {
    const node = get().nodes.find((n) => n.id === id);
    if (!node) return;
    const params = { ...node.data.params };
    if (value === undefined) delete params[name];
    else params[name] = value;
    get().updateNode(id, { params }, `param:${id}:${name}`);
  },

  renameNode: (id, newId) => {
    if (newId === id) return null;
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/.test(newId)) return "A node name starts with a letter or _ and holds only letters, digits, _ and -.";
    if (get().nodes.some((n) => n.id === newId)) return `There is already a node named ${newId}.`;
    get().change((s) => ({
      nodes: s.nodes.map((n) => (n.id === id ? { ...n, id: newId } : n)),
      edges: s.edges.map((e) => {
        const source = e.source === id ? newId : e.source;
        const target = e.target === id ? newId : e.target;
        return makeEdge(source, e.sourceHandle!, target, e.targetHandle!, isBeside(e));
      }),
    }));
    return null;
  },

  deleteSelection: () => {
    const { nodes, edges } = get();
    const doomed = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
    const edgeDoomed = new Set(edges.filter((e) => e.selected).map((e) => e.id));
    if (!doomed.size && !edgeDoomed.size) return;
    get().change((s) => ({
      nodes: s.nodes.filter((n) => !doomed.has(n.id)),
      edges: s.edges.filter((e) => !edgeDoomed.has(e.id) && !doomed.has(e.source) && !doomed.has(e.target)),
    }));
  },

  selectOnly: (ids) => {
    const wanted = new Set(ids);
    set({ nodes: get().nodes.map((n) => ({ ...n, selected: wanted.has(n.id) })), edges: get().edges.map((e) => ({ ...e, selected: false })) });
  },

  selectAll: () => set({ nodes: get().nodes.map((n) => ({ ...n, selected: true })) }),

  copySelection: () => {
    const nodes = get().nodes.filter((n) => n.selected);
    if (!nodes.length) return null;
    const ids = new Set(nodes.map((n) => n.id));
    return { nodes, edges: get().edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
  },

  paste: (clip, offset) => {
    const taken = get().nodes.map((n) => n.id);
    const renamed: Record<string, string> = {};
    const pasted: ModuleFlowNode[] = clip.nodes.map((n) => {
      const id = newNodeId(n.data.module, [...taken, ...Object.values(renamed)]);
      renamed[n.id] = id;
      return {
        ...n, id, selected: true,
        position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
        data: { ...n.data, params: structuredClone(n.data.params) },
      };
    });
    const edges = clip.edges.map((e) => makeEdge(renamed[e.source], e.sourceHandle!, renamed[e.target], e.targetHandle!, isBeside(e)));
    get().change((s) => ({ nodes: [...s.nodes.map((n) => ({ ...n, selected: false })), ...pasted], edges: [...s.edges, ...edges] }));
  },

  undo: () => {
    const state = get();
    const previous = state.past[state.past.length - 1];
    if (!previous) return;
    set({ ...previous, past: state.past.slice(0, -1), future: [snapshot(state), ...state.future], revision: state.revision + 1, lastCoalesceKey: null });
  },

  redo: () => {
    const state = get();
    const next = state.future[0];
    if (!next) return;
    set({ ...next, past: [...state.past, snapshot(state)], future: state.future.slice(1), revision: state.revision + 1, lastCoalesceKey: null });
  },

  setPositions: (positions) =>
    get().change((s) => ({ nodes: s.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) })),

  placeNodes: (positions) =>
    set({ nodes: get().nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) }),

  setValidation: (validation) => set({ validation }),
}));

function samePositions(a: ModuleFlowNode[], b: ModuleFlowNode[]): boolean {
  const where = new Map(a.map((n) => [n.id, n.position]));
  return b.every((n) => {
    const p = where.get(n.id);
    return p !== undefined && p.x === n.position.x && p.y === n.position.y;
  });
}
