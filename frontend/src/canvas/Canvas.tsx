/**
 * The graph canvas (React Flow): typed ports checked while connecting (a refused
 * connection says why), selection, moving, minimap and zoom controls. Keyboard shortcuts
 * live in the editor (they also work with the focus outside the canvas).
 */
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useConnection,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type FitViewOptions,
  type IsValidConnection,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from "react";
import type { ModuleSpec } from "../types";
import { useToasts } from "../ui/toasts";
import type { ModuleFlowNode } from "./graph";
import { autoLayout } from "./layout";
import { ModuleNode } from "./ModuleNode";
import { autoWires } from "./autoWire";
import { ModuleOffer, type Offer } from "./ModuleOffer";
import type { NodeMenuAt } from "./NodeMenu";
import { DEFAULT_SIZE } from "./placement";
import { connectionProblem } from "./ports";
import { useEditor } from "./store";

const MINIMAP = { width: 150, height: 96 };
/** How every "fit the view" frames the graph: the right margin keeps the minimap (bottom
 * right) off the modules. */
export const FIT_VIEW: FitViewOptions = {
  maxZoom: 1,
  padding: { top: "30px", left: "30px", bottom: "30px", right: `${MINIMAP.width + 40}px` },
};

// At module scope: a new object on each render would remount every node.
const nodeTypes = { module: ModuleNode };
const MULTI_SELECT_KEYS = ["Meta", "Control", "Shift"];

/** Orients a connection dragged either way (output to input, or input to output). */
function asOutputToInput(c: Connection | Edge): Connection {
  return { source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target, targetHandle: c.targetHandle ?? null };
}

function problemOf(c: Connection | Edge): string | null {
  const { nodes, edges, specs } = useEditor.getState();
  return connectionProblem(asOutputToInput(c), nodes, edges, specs);
}

// The last port that refused the connection being dragged, to say why when it is dropped
// there (React Flow may not report that port at the drop when the pointer just left it).
type PortAt = { node: string; handle: string | null };
let lastRefusal: { problem: string; at: number; ports: PortAt[] } | null = null;
// How long after the pointer left a refusing port a drop still reports it: long enough
// for a busy browser to deliver the drop (500 ms was not, under load), short enough not to
// blame a port the user had moved well away from.
const REFUSAL_FRESH_MS = 2000;
// …and only near that port: a drag out of an output passes close to its own module's
// inputs, which refuse it, on its way to empty space (where the drop offers modules).
const REFUSAL_NEAR_PX = 48;

function nearPort(port: PortAt, point: { clientX: number; clientY: number }): boolean {
  const handle = document.querySelector(
    `.react-flow__handle[data-nodeid="${CSS.escape(port.node)}"][data-handleid="${CSS.escape(port.handle ?? "")}"]`,
  );
  if (!handle) return false;
  const box = handle.getBoundingClientRect();
  return Math.hypot(box.x + box.width / 2 - point.clientX, box.y + box.height / 2 - point.clientY) <= REFUSAL_NEAR_PX;
}

/** When the canvas gets shorter or taller (the run panel opens, closes or is resized), the
 * graph is fitted into it again: the panel takes room from the canvas, and the modules of
 * the run (the selected one among them) must stay in view. */
function useKeptInView() {
  const box = useRef<HTMLDivElement>(null);
  const { fitView } = useReactFlow();
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let height = element.clientHeight;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      if (Math.abs(element.clientHeight - height) < 8) return;
      height = element.clientHeight;
      cancelAnimationFrame(frame);
      // On the next frame: React Flow learns its new size from its own observer first.
      frame = requestAnimationFrame(() => void fitView(FIT_VIEW));
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [fitView]);
  return box;
}

/** Lays the graph out (ELK) once its modules have their sizes, when `wanted` (an opened
 * file without a layout); the positions are not an edit (see `placeNodes`). */
function useLayOutOnLoad(wanted: boolean) {
  const measured = useNodesInitialized();
  const { fitView } = useReactFlow();
  const done = useRef(false);
  useEffect(() => {
    if (!wanted || !measured || done.current) return;
    done.current = true;
    const { nodes, edges, revision } = useEditor.getState();
    void autoLayout(nodes, edges).then((positions) => {
      // Moved or changed already: the user's arrangement wins.
      if (useEditor.getState().revision !== revision) return;
      useEditor.getState().placeNodes(positions);
      // Once React Flow has drawn the new positions.
      requestAnimationFrame(() => void fitView(FIT_VIEW));
    });
  }, [wanted, measured, fitView]);
}

/** While a connection is dragged over a port that refuses it, says why. */
function ConnectionHint() {
  const connection = useConnection();
  if (!connection.inProgress || connection.isValid !== false || !connection.toHandle) return null;
  const from = connection.fromHandle;
  const to = connection.toHandle;
  const c =
    from.type === "source"
      ? { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }
      : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
  const problem = problemOf(c);
  return problem ? (
    <div className="connection-hint" role="status">
      {problem}
    </div>
  ) : null;
}

/** Where a module's menu opens: at the pointer, or under the module for the keyboard. */
function menuAt(element: Element, event?: { clientX: number; clientY: number }): { x: number; y: number } {
  // A context-menu key's event has no pointer position.
  if (event && (event.clientX || event.clientY)) return { x: event.clientX, y: event.clientY };
  const box = element.getBoundingClientRect();
  return { x: box.left + 16, y: box.bottom + 4 };
}

export function Canvas({ readOnly, layOutOnLoad = false, onNodeMenu }: {
  readOnly?: boolean;
  /** The graph opened has no layout: lay it out once drawn. */
  layOutOnLoad?: boolean;
  onNodeMenu?(menu: NodeMenuAt): void;
}) {
  const nodes = useEditor((s) => s.nodes);
  const rawEdges = useEditor((s) => s.edges);
  const validation = useEditor((s) => s.validation);
  // As one string, so that moving nodes (a new nodes array each frame) keeps the edges as they are.
  const requestNodes = useEditor((s) => s.nodes.filter((n) => s.specs[n.data.module]?.request_input).map((n) => n.id).join(" "));
  // An edge into an input the server finds wrong (e.g. a type mismatch from a file) is drawn red;
  // a Web Service Input's, which carries data only when the pipeline serves, dashed.
  const edges = useMemo(() => {
    const bad = new Set(validation?.errors.filter((e) => e.node && e.port).map((e) => `${e.node}.${e.port}`));
    const requests = new Set(requestNodes.split(" ").filter(Boolean));
    if (!bad.size && !requests.size) return rawEdges;
    return rawEdges.map((e) =>
      bad.has(e.id) ? { ...e, className: "edge-error" } : requests.has(e.source) ? { ...e, className: "edge-request" } : e,
    );
  }, [rawEdges, validation, requestNodes]);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const beginDrag = useEditor((s) => s.beginDrag);
  const connect = useEditor((s) => s.connect);
  const toast = useToasts((s) => s.push);
  // Fit a loaded graph once; an empty draft keeps zoom 1 so the first drop doesn't move the view.
  const [fitOnLoad] = useState(() => useEditor.getState().nodes.length > 0);

  const isValidConnection: IsValidConnection = useCallback((c) => {
    const problem = problemOf(c);
    // Either end may be the one under the pointer, as the drag may start from either.
    const ports = [{ node: c.source, handle: c.sourceHandle ?? null }, { node: c.target, handle: c.targetHandle ?? null }];
    lastRefusal = problem ? { problem, at: Date.now(), ports } : null;
    return problem === null;
  }, []);
  const onConnect = useCallback(
    (c: Connection) => {
      if (c.sourceHandle && c.targetHandle && problemOf(c) === null) connect(c.source, c.sourceHandle, c.target, c.targetHandle);
    },
    [connect],
  );
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      const refusal = lastRefusal;
      lastRefusal = null;
      if (state.isValid === true) return;
      let problem: string | null = null;
      const point = "changedTouches" in event ? event.changedTouches[0] : event;
      if (state.toHandle && state.fromHandle) {
        const from = state.fromHandle;
        const to = state.toHandle;
        problem = problemOf(
          from.type === "source"
            ? { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }
            : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null },
        );
      } else if (refusal && Date.now() - refusal.at < REFUSAL_FRESH_MS && point && refusal.ports.some((port) => nearPort(port, point))) {
        problem = refusal.problem;
      }
      if (problem) toast("error", `Not connected: ${problem}`);
      else if (!state.toHandle && state.fromHandle?.type === "source" && state.fromNode) {
        // Dropped in empty space: offer the modules that take this output.
        const spec = useEditor.getState().specs[state.fromNode.data.module as string];
        const type = spec?.outputs.find((p) => p.name === state.fromHandle?.id)?.type;
        if (type && point) setOffer({ source: state.fromNode.id, sourcePort: state.fromHandle.id ?? "", type, at: { x: point.clientX, y: point.clientY } });
      }
    },
    [toast],
  );
  const [offer, setOffer] = useState<Offer | null>(null);
  const closeOffer = useCallback(() => setOffer(null), []);
  const { screenToFlowPosition } = useReactFlow();
  const placeOffered = (spec: ModuleSpec, input: string) => {
    if (!offer) return;
    const editor = useEditor.getState();
    // Its input port (top middle) where the drag ended.
    const at = screenToFlowPosition(offer.at);
    const id = editor.addNode(spec.id, { x: at.x - DEFAULT_SIZE.width / 2, y: at.y });
    editor.connect(offer.source, offer.sourcePort, id, input);
    // Its other inputs, where one output can only be meant (one undo step each, like a wire by hand).
    const { nodes, edges, specs, connect } = useEditor.getState();
    for (const wire of autoWires(id, offer.source, nodes, edges, specs)) connect(wire.source, wire.sourceHandle, id, wire.targetHandle);
    setOffer(null);
  };
  const onConnectStart = useCallback(() => {
    lastRefusal = null;
  }, []);

  const box = useKeptInView();
  useLayOutOnLoad(layOutOnLoad);

  const openMenu = (id: string, at: { x: number; y: number }) => {
    useEditor.getState().selectOnly([id]);
    onNodeMenu?.({ node: id, at });
  };
  const onNodeContextMenu = (event: ReactMouseEvent, node: ModuleFlowNode) => {
    event.preventDefault();
    openMenu(node.id, menuAt(event.currentTarget, event));
  };
  // Shift+F10 or the context-menu key on a focused module, as anywhere else.
  const onKeyDown = (event: KeyboardEvent) => {
    if (!(event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey))) return;
    const element = (event.target as Element).closest(".react-flow__node");
    const id = element?.getAttribute("data-id");
    if (!element || !id) return;
    event.preventDefault();
    openMenu(id, menuAt(element));
  };

  return (
    <div className="canvas" aria-label="Pipeline canvas" ref={box} onKeyDown={onNodeMenu && onKeyDown}>
      <ReactFlow<ModuleFlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={beginDrag}
        onSelectionDragStart={beginDrag}
        onConnect={onConnect}
        onConnectStart={onConnectStart}
        onConnectEnd={onConnectEnd}
        onNodeContextMenu={onNodeMenu && onNodeContextMenu}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesFocusable
        // Deleting goes through the editor's shortcut, which records it for undo.
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionKeyCode="Shift"
        connectionRadius={24}
        defaultEdgeOptions={{ type: "smoothstep" }}
        fitView={fitOnLoad}
        fitViewOptions={FIT_VIEW}
        minZoom={0.1}
        proOptions={{ hideAttribution: true }}
        ariaLabelConfig={{ "node.a11yDescription.default": "Press Enter or Space to select a module; arrow keys move it." }}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="Minimap" style={MINIMAP} />
        <Controls showInteractive={false} aria-label="Zoom controls" />
        <ConnectionHint />
      </ReactFlow>
      {offer && !readOnly && <ModuleOffer offer={offer} onChoose={placeOffered} onClose={closeOffer} />}
    </div>
  );
}
