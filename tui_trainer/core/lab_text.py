"""The autograd lab as plain text: the graph of a step drawn as a tree, and a lesson's code with what
torch printed or raised. The CLI prints these lines; the app shows the same lines. No torch."""

from __future__ import annotations

from .lab_events import GraphNode, LessonResult, StepGraph
from .lesson_texts import EXPLANATIONS, TITLES, label


def numbers(values: list[float], shape: list[int] | None = None) -> str:
    """`[v1, v2, …]` at 4 significant digits, with an ellipsis when the tensor has more."""
    total = 1
    for size in shape or [len(values)]:
        total *= size
    shown = ", ".join(f"{v:.4g}" for v in values)
    return f"[{shown}{', …' if total > len(values) else ''}]"


def tree_lines(node: GraphNode, lang: str, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
    """`node` and its children, one line each, joined by box-drawing branches."""
    branch = "" if top else ("└─ " if last else "├─ ")
    leaf = f" ({node.leaf})" if node.leaf else ""
    gradient = "" if node.gradient is None else f"  ← {numbers(node.gradient, node.shape)}"
    shape = "" if node.shape is None or len(node.shape) < 2 else f" {'×'.join(map(str, node.shape))}"
    lines = [f"{prefix}{branch}{node.name}{leaf}{gradient}{shape}"]
    inner = prefix if top else prefix + ("   " if last else "│  ")
    for i, child in enumerate(node.children):
        lines += tree_lines(child, lang, inner, i == len(node.children) - 1 and not node.inputs_without_grad, top=False)
    if node.inputs_without_grad:  # next_functions lists them as None
        lines.append(f"{inner}└─ None ({label(lang, 'needs_no_grads', count=node.inputs_without_grad)})")
    return lines


def graph_lines(graph: StepGraph | None, lang: str) -> list[str]:
    if graph is None:
        return [label(lang, "no_step")]
    if graph.root is None:
        lines = [label(lang, "no_graph")]
    else:
        lines = [label(lang, "graph", step=graph.step, rows=graph.rows)]
        lines += ["  " + line for line in tree_lines(graph.root, lang)]
    if graph.output_gradient is not None:
        lines.append(label(lang, "output_gradient", values=numbers(graph.output_gradient, [graph.rows])))
    lines += [label(lang, "grad", name=name, values=numbers(values)) for name, values in graph.grads.items()]
    if graph.eval_root is not None:
        lines.append(label(lang, "eval_graph"))
        lines += ["  " + line for line in tree_lines(graph.eval_root, lang)]
    elif graph.evaluated and graph.root is not None:
        lines.append(label(lang, "eval_no_graph"))
    return lines


def lesson_lines(result: LessonResult, lang: str) -> list[str]:
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
        lines += [*graph_lines(result.graph, lang), ""]
    lines.append(EXPLANATIONS[lang][result.name])
    return lines
