"""The words of the autograd lab, in English and in Chinese (the seed notes' language): each lesson's
title and what it shows, and the labels around the graph and the code. Standard library only, so
the app can offer the lessons before torch is loaded."""

from __future__ import annotations

LESSON_NAMES = (
    "graph", "requires-grad", "no-grad", "retain-graph", "numpy", "data-vs-detach", "vector-backward", "module-call", "device",
)

TITLES = {
    "en": {
        "graph": "The computation graph of one step",
        "requires-grad": "requires_grad on and off",
        "no-grad": "with torch.no_grad(): nothing recorded",
        "retain-graph": "backward() twice: retain_graph, accumulation, zero_grad()",
        "numpy": ".numpy() on a tensor that requires grad",
        "data-vs-detach": ".data against .detach()",
        "vector-backward": "backward() on a vector needs gradient=",
        "module-call": "model(x) calls forward; model.eval()",
        "device": "Where tensors live: .cpu().detach().numpy()",
    },
    "zh": {
        "graph": "一步训练的计算图",
        "requires-grad": "打开和关闭 requires_grad",
        "no-grad": "with torch.no_grad()：什么都不记录",
        "retain-graph": "两次 backward()：retain_graph、梯度累加、zero_grad()",
        "numpy": "对需要梯度的 tensor 调用 .numpy()",
        "data-vs-detach": ".data 与 .detach() 的区别",
        "vector-backward": "对向量调用 backward() 需要传入 gradient=",
        "module-call": "model(x) 调用的是 forward；model.eval()",
        "device": "tensor 在哪个设备上：.cpu().detach().numpy()",
    },
}

EXPLANATIONS = {
    "en": {
        "graph": "Every operation on a tensor that requires grad is recorded as a node; loss.grad_fn is the last one. "
        "backward() walks next_functions from there, applying the chain rule link by link: dL/dL = 1 at the loss, "
        "dL/dŷ below it, and at the AccumulateGrad leaves the gradient that lands in the parameter's .grad.",
        "requires-grad": "A parameter requires grad, the data does not, so the prediction gets a grad_fn. Switch it off "
        "and nothing is recorded (grad_fn None); requires_grad_(True) switches it on for any tensor.",
        "no-grad": "Inside torch.no_grad() operations are not recorded: no grad_fn, no graph kept in memory. "
        "Evaluation and hand-written updates belong there.",
        "retain-graph": "backward() frees the graph's saved values, so a second backward() fails. With retain_graph=True "
        "it runs again, and the gradient is added into .grad: exactly twice the first. zero_grad() clears .grad "
        "(to None, by default) before the next step.",
        "numpy": "A tensor that requires grad cannot become a numpy array: numpy would lose the graph. "
        ".detach() gives the same values without a graph, and that converts.",
        "data-vs-detach": "Both share the tensor's memory. A change through .data is invisible to autograd: backward "
        "silently uses the changed x, and the weight's gradient comes out wrong (here exactly twice the right one). "
        "The same change through .detach() bumps the version counter, and backward refuses.",
        "vector-backward": "backward() with no argument needs a single number. For a vector output, pass gradient= "
        "(the weights of a weighted sum of its elements); ones_like sums them. A one-row batch is a single number.",
        "module-call": "model(x) goes through nn.Module.__call__, which runs the hooks and then forward(x): the same "
        "numbers as model.forward(x), but only the call ran the hook. model.eval() sets model.training to False.",
        "device": "The model and the batch must be on the same device, and the result is on it too. numpy lives on "
        "the CPU: .cpu() moves it there (on the CPU it is the tensor itself), .detach() drops the graph.",
    },
    "zh": {
        "graph": "对需要梯度的 tensor 做的每个运算都会记录为一个节点；loss.grad_fn 是最后一个。backward() 从这里沿着 "
        "next_functions 往回走，逐个环节应用链式法则：在损失处 dL/dL = 1，下面是 dL/dŷ，到 AccumulateGrad 叶子节点时，"
        "就是累加到参数 .grad 中的梯度。",
        "requires-grad": "参数需要梯度，数据不需要，所以预测值有 grad_fn。关闭后什么都不记录（grad_fn 为 None）；"
        "任何 tensor 都可以用 requires_grad_(True) 打开。",
        "no-grad": "在 torch.no_grad() 里运算不会被记录：没有 grad_fn，内存里也不保留计算图。评估和手写的参数更新都应该放在这里。",
        "retain-graph": "backward() 会释放计算图保存的中间值，所以第二次 backward() 会报错。加上 retain_graph=True 就能再算一次，"
        "梯度会累加到 .grad 中：正好是第一次的两倍。zero_grad() 在下一步之前清空 .grad（默认设为 None）。",
        "numpy": "需要梯度的 tensor 不能直接转换成 numpy 数组：numpy 会丢掉计算图。"
        ".detach() 得到数值相同、没有计算图的 tensor，就可以转换了。",
        "data-vs-detach": "两者都和原 tensor 共享内存。通过 .data 做的修改 autograd 看不到：backward 悄悄地用了被修改的 x，"
        "权重的梯度就错了（这里正好是正确值的两倍）。同样的修改通过 .detach() 会增加版本计数，backward 会拒绝计算。",
        "vector-backward": "不带参数的 backward() 只能用于标量。输出是向量时要传入 gradient=（对各个元素加权求和的权重）；"
        "ones_like 就是把它们加起来。只有一行的批次输出就是一个数。",
        "module-call": "model(x) 走的是 nn.Module.__call__，它先运行钩子，再调用 forward(x)：数值和 model.forward(x) 一样，"
        "但只有前者运行了钩子。model.eval() 把 model.training 设为 False。",
        "device": "模型和数据必须在同一个设备上，结果也在那个设备上。numpy 只在 CPU 上："
        ".cpu() 把它移到 CPU（本来就在 CPU 上时就是它本身），.detach() 去掉计算图。",
    },
}

LABELS = {
    "en": {
        "lab": "Autograd lab",
        "inputs": "on a copy of the run's model {model} on {device} (after step {step}), x, y: {rows} rows of its batch, loss_fn = {loss}",
        "printed": "printed",
        "raised": "raised",
        "graph": "The graph of step {step} ({rows} rows): each node with the gradient of its output",
        "lesson_graph": "The graph of this loss ({rows} rows): each node with the gradient of its output",
        "no_graph": "No graph: the fused engine computes the gradients in closed form, without autograd",
        "no_step": "Take a step (n) and its graph appears here",
        "unrecorded": "The steps so far were taken while this view was closed: take the next one (n) and its graph appears here",
        "output_gradient": "a hook on ŷ received dL/dŷ = {values}",
        "grad": "{name}.grad = {values}",
        "needs_no_grad": "an input that needs no gradient",
        "needs_no_grads": "{count} inputs that need no gradient",
        "eval_graph": "The last evaluation, without torch.no_grad(), kept this graph:",
        "eval_no_graph": "The last evaluation ran under torch.no_grad(): grad_fn None, no graph kept",
        "lesson": "Lesson",
        "choose": "Choose a lesson (g: the next one) to run it on this run's model and batch",
        "open_lab": "autograd lab (g)",
        "back": "the rule and the step",
        "running": "running…",
    },
    "zh": {
        "lab": "自动求导实验室",
        "inputs": "在训练模型的副本 {model}（{device}，第 {step} 步之后）上运行，x, y：它的批次中的 {rows} 行，loss_fn = {loss}",
        "printed": "输出",
        "raised": "报错",
        "graph": "第 {step} 步的计算图（{rows} 行）：每个节点旁边是其输出的梯度",
        "lesson_graph": "这个损失的计算图（{rows} 行）：每个节点旁边是其输出的梯度",
        "no_graph": "没有计算图：fused 引擎用闭式公式计算梯度，不经过 autograd",
        "no_step": "走一步（n），它的计算图就会出现在这里",
        "unrecorded": "到目前为止的步都是在这个视图关闭时走的：再走一步（n），它的计算图就会出现在这里",
        "output_gradient": "ŷ 上的钩子收到 dL/dŷ = {values}",
        "grad": "{name}.grad = {values}",
        "needs_no_grad": "不需要梯度的输入",
        "needs_no_grads": "{count} 个不需要梯度的输入",
        "eval_graph": "最后一次评估没有用 torch.no_grad()，保留了这个计算图：",
        "eval_no_graph": "最后一次评估在 torch.no_grad() 中运行：grad_fn 为 None，没有保留计算图",
        "lesson": "课程",
        "choose": "选择一个课程（g：下一个），在这次训练的模型和批次上运行它",
        "open_lab": "自动求导实验室（g）",
        "back": "更新规则和这一步",
        "running": "运行中……",
    },
}


def label(lang: str, key: str, **values: object) -> str:
    if key == "needs_no_grads" and values.get("count") == 1:
        key = "needs_no_grad"
    return LABELS[lang][key].format(**values)
