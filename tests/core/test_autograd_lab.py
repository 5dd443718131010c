"""The autograd lab, checked against torch itself: the drawn graph is the walk of loss.grad_fn, the
gradient beside each node is what a hook on the real tensor received, the errors shown are the
ones torch raises (matched by running torch here), the doubled gradient is exactly twice."""

import pytest
import torch
from torch import nn

from tui_trainer.core.autograd_lab import LESSONS, LabInputs, run_lesson
from tui_trainer.core.config import RunConfig
from tui_trainer.core.graph_walk import SHOWN_VALUES, GraphRecorder
from tui_trainer.core.lab_events import GraphNode, StepGraph
from tui_trainer.core.lab_text import graph_lines, lesson_lines
from tui_trainer.core.lesson_texts import EXPLANATIONS, LABELS, LESSON_NAMES, TITLES
from tui_trainer.core.objective import objective_for
from tui_trainer.core.trainer import Trainer


def torch_walk(node) -> tuple:
    """The graph under a grad_fn as (class name, children), written here independently."""
    return type(node).__name__, [torch_walk(child) for child, _ in node.next_functions if child is not None]


def drawn(node: GraphNode) -> tuple:
    return node.name, [drawn(child) for child in node.children]


def leaf_of(node: GraphNode, parameter: str) -> GraphNode:
    """The leaf node that fills `parameter`'s .grad."""
    found = [n for n in every_node(node) if n.leaf == parameter]
    assert len(found) == 1 and not found[0].children, f"one leaf for {parameter}"
    return found[0]


def every_node(node: GraphNode):
    yield node
    for child in node.children:
        yield from every_node(child)


def first(tensor: torch.Tensor) -> list[float]:
    return tensor.detach().reshape(-1)[:SHOWN_VALUES].tolist()


def raised_by(action) -> str:
    """What torch raises for `action`, as the lab writes it."""
    with pytest.raises(Exception) as caught:  # whichever torch raises is the one to match
        action()
    return f"{type(caught.value).__name__}: {caught.value}"


def trainer_for(**settings) -> tuple[Trainer, list]:
    base = {"optimizer": {"algorithm": "sgd", "batch_size": 8, "epochs": 1}, "max_steps": 5,
            "data": {"samples": 60, "dims": 3, "noise": 0.3}}
    events: list = []
    trainer = Trainer(RunConfig.model_validate({**base, **settings}), sink=events.append)
    trainer.control.ledger = True
    return trainer, events


CLASSIFIER = {"loss": "cross-entropy", "data": {"samples": 60, "dims": 3, "classes": 3}}


def test_the_graph_of_a_step_is_the_walk_of_its_loss_and_each_gradient_is_what_a_hook_received():
    trainer, events = trainer_for()
    model = trainer.model
    received = {"weight": [], "bias": [], "prediction": []}
    model.weight.register_hook(lambda g: received["weight"].append(g.clone()))
    model.bias.register_hook(lambda g: received["bias"].append(g.clone()))

    def hook_output(module, inputs, output):
        if output.requires_grad:
            output.register_hook(lambda g: received["prediction"].append(g.clone()))

    model.register_forward_hook(hook_output)
    trainer.run()
    graphs = [e for e in events if isinstance(e, StepGraph)]
    assert graphs and graphs[-1].step == trainer.step
    graph = graphs[-1]
    assert drawn(graph.root) == torch_walk(trainer.stepper.last_loss.grad_fn)  # the real graph, as torch records it
    assert leaf_of(graph.root, "weight").gradient == first(received["weight"][-1])
    assert leaf_of(graph.root, "bias").gradient == first(received["bias"][-1])
    assert graph.output_gradient == first(received["prediction"][-1])  # dL/dŷ, the batch's first rows
    assert graph.root.gradient == [1.0]  # dL/dL
    assert graph.grads["weight"] == first(model.weight.grad)


def test_a_big_gradient_is_kept_as_its_first_rows_with_its_shape():
    trainer, events = trainer_for(optimizer={"algorithm": "bgd", "batch_size": "full", "epochs": 2})
    trainer.run()
    graph = [e for e in events if isinstance(e, StepGraph)][-1]
    below_loss = graph.root.children[0]
    assert below_loss.shape == [graph.rows, 1] and len(below_loss.gradient) == SHOWN_VALUES < graph.rows


def test_the_recorder_leaves_no_hook_behind_and_the_run_is_the_same_with_or_without_it():
    watched, _ = trainer_for()
    watched.run()
    plain = Trainer(watched.config)
    plain.run()
    assert torch.equal(watched.model.weight, plain.model.weight) and torch.equal(watched.model.bias, plain.model.bias)
    assert not watched.model.weight.grad_fn and not watched.model.weight._backward_hooks


def test_the_fused_engine_records_no_graph_and_says_so():
    trainer, events = trainer_for(engine="fused")
    trainer.run()
    graph = [e for e in events if isinstance(e, StepGraph)][-1]
    assert graph.root is None and "fused" in "\n".join(graph_lines(graph, "en"))


def test_evaluating_without_no_grad_keeps_the_evaluations_graph():
    settings = {"optimizer": {"algorithm": "bgd", "batch_size": "full", "epochs": 3}}
    kept, events = trainer_for(experiments={"eval_without_no_grad": True}, **settings)
    kept.run()
    graph = [e for e in events if isinstance(e, StepGraph)][-1]
    assert graph.evaluated and drawn(graph.eval_root) == torch_walk(kept.stepper.last_eval.grad_fn)
    assert "without torch.no_grad()" in "\n".join(graph_lines(graph, "en"))
    plain, events = trainer_for(**settings)
    plain.run()
    graph = [e for e in events if isinstance(e, StepGraph)][-1]
    assert graph.evaluated and graph.eval_root is None and plain.stepper.last_eval.grad_fn is None


# --- the lessons ---


@pytest.fixture
def inputs() -> LabInputs:
    torch.manual_seed(3)
    model = nn.Linear(3, 1)
    return LabInputs.capture(model, torch.randn(10, 3), torch.randn(10, 1), objective_for().torch_loss(), 7)


def fresh(inputs: LabInputs):
    """The lesson's starting point, rebuilt here: a copy of the model, the batch, the loss."""
    copy = LabInputs.capture(inputs.model, inputs.x, inputs.y, inputs.loss_fn, inputs.step)
    return copy.model, copy.x, copy.y, inputs.loss_fn


def test_every_lesson_has_its_words_in_both_languages():
    assert tuple(LESSONS) == LESSON_NAMES
    for lang in ("en", "zh"):
        assert set(TITLES[lang]) == set(EXPLANATIONS[lang]) == set(LESSON_NAMES)
        assert set(LABELS[lang]) == set(LABELS["en"])


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_a_lesson_leaves_the_runs_model_and_batch_untouched(inputs, name):
    before = [t.clone() for t in (inputs.model.weight, inputs.model.bias, inputs.x, inputs.y)]
    result = run_lesson(name, inputs)
    after = (inputs.model.weight, inputs.model.bias, inputs.x, inputs.y)
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert inputs.model.weight.grad is None and inputs.model.weight.requires_grad
    assert all(step.error is None or step.shows_error for step in result.steps)  # no error nobody meant
    assert result.loss == objective_for().torch_loss().__name__  # the run's loss, through the seam
    for lang in ("en", "zh"):
        assert TITLES[lang][name] in lesson_lines(result, lang)


def test_the_graph_lesson_draws_the_walk_of_its_loss(inputs):
    result = run_lesson("graph", inputs)
    model, x, y, loss_fn = fresh(inputs)
    prediction = model(x)
    seen = []
    prediction.register_hook(seen.append)
    loss = loss_fn(prediction, y)
    loss.backward()
    assert drawn(result.graph.root) == torch_walk(loss.grad_fn)
    assert result.graph.output_gradient == first(seen[0])
    assert leaf_of(result.graph.root, "bias").gradient == first(model.bias.grad)
    assert result.steps[0].output == [loss.grad_fn.name()]


def test_retain_graph_shows_torchs_error_then_exactly_twice_the_gradient_then_none(inputs):
    result = run_lesson("retain-graph", inputs)
    model, x, y, loss_fn = fresh(inputs)
    loss = loss_fn(model(x), y)
    loss.backward()
    assert result.steps[1].error == raised_by(loss.backward)
    assert result.facts["once"] == model.bias.grad.tolist() and result.facts["once_w"] == model.weight.grad.reshape(-1).tolist()
    assert result.facts["twice"] == [2 * g for g in result.facts["once"]]
    assert result.facts["twice_w"] == [2 * g for g in result.facts["once_w"]]
    assert result.steps[-1].output == ["None"]


def test_numpy_shows_torchs_refusal_then_detach_works(inputs):
    result = run_lesson("numpy", inputs)
    model, x, _, _ = fresh(inputs)
    prediction = model(x)
    assert result.steps[0].error == raised_by(prediction.numpy)
    assert result.steps[1].error is None and result.steps[1].output[0].startswith("ndarray (10, 1)")


def test_data_changes_the_gradient_silently_and_detach_is_caught_by_the_version_check(inputs):
    result = run_lesson("data-vs-detach", inputs)
    model, x, y, loss_fn = fresh(inputs)
    loss_fn(model(x), y).backward()
    assert result.facts["right"] == model.weight.grad.reshape(-1).tolist()
    assert result.facts["wrong"] == [2 * g for g in result.facts["right"]]  # x doubled behind autograd's back
    assert result.steps[0].error is None  # silently
    loss = loss_fn(model(x), y)
    x.detach().mul_(2)
    assert result.steps[2].error == raised_by(loss.backward)
    assert "version" in result.steps[2].error


def test_backward_on_a_vector_needs_gradient(inputs):
    result = run_lesson("vector-backward", inputs)
    model, x, _, _ = fresh(inputs)
    assert result.steps[0].error == raised_by(model(x).backward)
    assert result.steps[1].output == [str(torch.tensor([10.0]))]  # ones_like: each of the 10 rows adds 1 to the bias


def test_a_one_row_batch_is_a_single_number_and_backward_needs_nothing(inputs):
    one_row = LabInputs.capture(inputs.model, inputs.x[:1], inputs.y[:1], inputs.loss_fn, 1)
    assert run_lesson("vector-backward", one_row).steps[0].error is None


def test_requires_grad_no_grad_module_call_and_device_print_what_torch_says(inputs):
    assert run_lesson("requires-grad", inputs).steps[1].output == ["False None"]
    no_grad = run_lesson("no-grad", inputs)
    model, x, _, _ = fresh(inputs)
    assert no_grad.steps[0].output == ["False None"] and no_grad.steps[1].output == [f"True {model(x).grad_fn.name()}"]
    module = run_lesson("module-call", inputs)
    assert module.steps[0].output == ["True [(10, 1)]"]  # only model(x) ran the hook
    assert module.steps[1].output == ["True", "False"]
    device = run_lesson("device", inputs)
    assert device.steps[-1].output == ["cpu ndarray float32"]


def test_the_lessons_copy_follows_the_run_between_chunks_and_never_shares_its_tensors():
    trainer, _ = trainer_for()
    trainer.begin()
    assert trainer.published_lab_inputs.step == 0
    trainer.advance(limit=3)
    published = trainer.published_lab_inputs
    assert published.step == trainer.step == 1  # the first chunk is one step
    assert torch.equal(published.model.weight, trainer.model.weight) and published.model.weight is not trainer.model.weight
    x, _ = trainer.batches.batch(0)
    assert torch.equal(published.x, x[: len(published.x)])


def test_the_drawn_tree_fits_the_width_it_is_given_and_says_what_it_cut():
    torch.manual_seed(0)
    model = nn.Linear(6, 1)
    inputs = LabInputs.capture(model, torch.randn(40, 6), torch.randn(40, 1), objective_for().torch_loss(), 0)
    graph = run_lesson("graph", inputs).graph
    wide, narrow = graph_lines(graph, "en"), graph_lines(graph, "en", width=60)
    numbers = [line for line in narrow if "←" in line or "dL/dŷ" in line]  # prose wraps; numbers are cut to fit
    assert max(map(len, numbers)) <= 60 < max(len(line) for line in wide if "←" in line)
    assert all("…" in line for line in narrow if "AccumulateGrad (weight)" in line or "dL/dŷ" in line)
    assert graph_lines(None, "zh", steps_taken=3) == [LABELS["zh"]["unrecorded"]]


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_every_lesson_runs_on_a_classifier_through_the_loss_seam(name):
    """The lessons take the run's loss from the objective: cross-entropy's graph is its own."""
    trainer, _ = trainer_for(**CLASSIFIER)
    result = run_lesson(name, trainer.lab_inputs())
    assert result.loss == trainer.objective.torch_loss().__name__ != objective_for().torch_loss().__name__
    assert all(step.error is None or step.shows_error for step in result.steps)
    if name == "retain-graph":
        assert result.facts["twice_w"] == [2 * g for g in result.facts["once_w"]]
    if name == "data-vs-detach":
        assert result.facts["wrong"] == [2 * g for g in result.facts["right"]]


def test_a_classifiers_step_through_the_recorder_is_the_walk_of_its_own_loss():
    """Cross-entropy records other nodes than MSE: whatever torch records is what is drawn. (One
    step driven here: the written-out step of the trainer does not take a classifier yet.)"""
    trainer, _ = trainer_for(**CLASSIFIER)
    seen = []
    trainer.model.weight.register_hook(seen.append)
    recorder = GraphRecorder(trainer.objective.torch_loss(), trainer.model)
    with trainer.stepper.loss_through(recorder):
        trainer.stepper.step(*trainer.batches.batch(0))
    graph = recorder.graph(step=1)
    assert drawn(graph.root) == torch_walk(trainer.stepper.last_loss.grad_fn)
    assert drawn(graph.root) != drawn(run_lesson("graph", LabInputs.capture(
        nn.Linear(3, 1), torch.randn(4, 3), torch.randn(4, 1), objective_for().torch_loss(), 0)).graph.root)
    assert leaf_of(graph.root, "weight").gradient == first(seen[0]) and leaf_of(graph.root, "weight").shape == [3, 3]
