"""The autograd lab as plain text: the graph of a step drawn as a tree, and a lesson's code with what
torch printed or raised. The CLI prints these lines; the app shows the same lines. No torch."""

from __future__ import annotations

from .lab_events import GraphNode, LessonResult, StepGraph
from .lesson_texts import EXPLANATIONS, TITLES, label

ALL_VALUES = 1 << 30  # show every value kept


def numbers(values: list[float], shape: list[int] | None = None, most: int = ALL_VALUES) -> str:
    """`[v1, v2, …]` at 4 significant digits (`most` of them), with an ellipsis when the tensor has more."""
    total = 1
    for size in shape or [len(values)]:
        total *= size
    shown = ", ".join(f"{v:.4g}" for v in values[:most])
    return f"[{shown}{', …' if total > min(len(values), most) else ''}]"


def tree_lines(
    node: GraphNode, lang: str, prefix: str = "", last: bool = True, top: bool = True, most: int = ALL_VALUES
) -> list[str]:
    """`node` and its children, one line each, joined by box-drawing branches; `most` values each."""
    branch = "" if top else ("└─ " if last else "├─ ")
    leaf = f" ({node.leaf})" if node.leaf else ""
    gradient = "" if node.gradient is None else f"  ← {numbers(node.gradient, node.shape, most)}"
    shape = "" if node.shape is None or len(node.shape) < 2 else f" {'×'.join(map(str, node.shape))}"
    lines = [f"{prefix}{branch}{node.name}{leaf}{gradient}{shape}"]
    inner = prefix if top else prefix + ("   " if last else "│  ")
    for i, child in enumerate(node.children):
        lines += tree_lines(child, lang, inner, i == len(node.children) - 1 and not node.inputs_without_grad, top=False, most=most)
    if node.inputs_without_grad:  # next_functions lists them as None
        lines.append(f"{inner}└─ None ({label(lang, 'needs_no_grads', count=node.inputs_without_grad)})")
    return lines


def fitted_tree(root: GraphNode, lang: str, width: int | None) -> list[str]:
    """The tree indented by two, with as many values per node as fit in `width` (at least one)."""
    lines: list[str] = []
    for most in range(max(1, *(len(node.gradient or []) for node in _every(root))), 0, -1):  # an evaluation's graph has none
        lines = ["  " + line for line in tree_lines(root, lang, most=most)]
        if width is None or max(map(len, lines)) <= width:
            break
    return lines


def _every(node: GraphNode) -> list[GraphNode]:
    return [node, *(n for child in node.children for n in _every(child))]


def graph_lines(graph: StepGraph | None, lang: str, width: int | None = None, steps_taken: int = 0) -> list[str]:
    """The graph of a step; trees fit in `width` columns when it is given. Without a graph, what to
    do for one (`steps_taken`: steps were taken while nobody recorded them)."""
    if graph is None:
        return [label(lang, "unrecorded" if steps_taken else "no_step")]
    if graph.root is None:
        lines = [label(lang, "no_graph")]
    else:
        title = label(lang, "graph", step=graph.step, rows=graph.rows) if graph.step else label(lang, "lesson_graph", rows=graph.rows)
        lines = [title, *fitted_tree(graph.root, lang, width)]
    if graph.output_gradient is not None:
        values = graph.output_gradient
        for most in range(len(values), 0, -1):  # as many of the batch's first rows as fit on the line
            line = label(lang, "output_gradient", values=numbers(values, [graph.rows], most))
            if width is None or len(line) <= width:
                break
        lines.append(line)
    lines += [label(lang, "grad", name=name, values=numbers(values, graph.grad_shapes.get(name))) for name, values in graph.grads.items()]
    if graph.eval_root is not None:
        lines += [label(lang, "eval_graph"), *fitted_tree(graph.eval_root, lang, width)]
    elif graph.evaluated and graph.root is not None:
        lines.append(label(lang, "eval_no_graph"))
    return lines


def lesson_lines(result: LessonResult, lang: str, width: int | None = None) -> list[str]:
    """Title, what it runs on, each step's code (`>>> `) and its output, the explanation."""
    lines = [TITLES[lang][result.name], label(lang, "inputs", model=result.model, device=result.device, step=result.step,
                                                rows=result.rows, loss=result.loss), ""]
    for step in result.steps:
        lines += [("... " if code[:1].isspace() else ">>> ") + code for code in step.code]  # as the Python prompt shows it
        lines += step.output
        if step.error is not None:
            lines.append(step.error)
        lines.append("")
    if result.graph is not None:
        lines += [*graph_lines(result.graph, lang, width), ""]
    lines.append(EXPLANATIONS[lang][result.name])
    return lines
