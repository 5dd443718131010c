"""The words of the Learn view, in English and in Chinese (the seed notes' language).

Each algorithm's formula and its paragraph on what it fixes in the rule before it (the seed's story:
BGD -> SGD -> mini-batch -> Momentum -> AdaGrad -> RMSProp -> Adam, then Nesterov and AdamW) come
from the rule registry; this module holds the view's other words.
"""

from __future__ import annotations

from ..core.rules import ALGORITHMS
from ..names import LANGUAGES

# each algorithm's rule and story live with the rule itself (core/rules), in both languages
RULES = {name: spec.shown_formula for name, spec in ALGORITHMS.items()}
STORIES = {lang: {name: spec.story[lang] for name, spec in ALGORITHMS.items()} for lang in LANGUAGES}

EXPERIMENTS = {
    "en": {
        "forget_zero_grad": "Forget to zero the gradients: backward adds into .grad, so each step uses every past gradient at once",
        "no_bias_correction": "Adam without bias correction (m̂ = m, v̂ = v): the first steps are the wrong size",
        "train_in_eval_mode": "Train with model.eval(): for nn.Linear nothing changes (no dropout, no batch norm)",
        "eval_without_no_grad": "Evaluate without torch.no_grad(): a graph is recorded (see grad_fn), the numbers are the same",
    },
    "zh": {
        "forget_zero_grad": "忘记把梯度置零：backward 会累加到 .grad，每一步都用上了过去所有的梯度",
        "no_bias_correction": "去掉 Adam 的偏差修正（m̂ = m，v̂ = v）：最初几步的步长不对",
        "train_in_eval_mode": "用 model.eval() 训练：对 nn.Linear 来说什么都不变（没有 dropout，也没有 batch norm）",
        "eval_without_no_grad": "不用 torch.no_grad() 做评估：会记录计算图（看 grad_fn），数值不变",
    },
}

LABELS = {
    "en": {
        "lesson": "The rule",
        "step": "Step {step} · epoch {epoch} · {batch}",
        "batch": "a batch of {rows} rows",
        "batch_one": "a batch of 1 row",
        "more_rows": "… and {count} more rows",
        "more_row": "… and 1 more row",
        "by_hand": "by hand",
        "optimizer": "optimizer",
        "more_gradients": "… and {count} more gradients",
        "more_gradient": "… and 1 more gradient",
        "more_updates": "… and {count} more parameters' updates",
        "more_update": "… and 1 more parameter's update",
        "columns": "prediction ŷ = w·x + b    residual ŷ − y",
        "loss": "loss = mean((ŷ − y)²) = {loss} (the run reported {reported})",
        "gradient": "gradient: by the chain rule, 2/n·Σ(ŷ − y)·x   beside   {source}",
        "update": "update ({algorithm}, lr {lr})",
        "optimizer_made": "the optimizer made {value}",
        "waiting": "Start a run (s) or take one step (n): the last step of every chunk is written out here; "
        "while paused, every step you take with n.",
        "unrecorded": "The steps so far were taken while this view was closed, and only steps taken with it open are "
        "written out (it costs time). Take the next one with n, or start (s), and it appears here.",
        "stability": "Curvature of this data",
        "hessian": "Hessian of the MSE: λmax {largest} · λmin {smallest} · condition number {kappa}",
        "limit": "plain full-batch gradient descent diverges above lr = 2/λmax = {limit}; its best lr is 2/(λmax+λmin) = {best}",
        "momentum": "momentum's best on this bowl (Goh, Distill 2017): lr {lr}, μ {mu} (full batch)",
        "flat": "two features repeat each other: the bowl is flat along a line (λmin = 0)",
        "experiments": "Experiments",
        "apply_optimal": "apply the best values (o)",
        "above_limit": "lr just above the limit (x)",
        "active": "experiments on: {names}",
        "ce_columns": "logits z = W·x + b (one per class)    p = softmax(z): p_c = e^z_c / Σ e^z    −log p(y): the row's loss",
        "ce_softmax": "first row: softmax(z) = ({probabilities}), its class {label}: p(y) = {own}",
        "ce_loss": "loss = mean(−log p(y)) = {loss} (the run reported {reported})",
        "ce_gradient": "gradient: by the chain rule, dL/dz = (p − onehot(y))/n, dL/dW = (dL/dz)ᵀ·x, dL/db = Σ dL/dz   beside   {source}",
        "ce_hessian": "Hessian of the cross-entropy at its optimum (it changes with θ): λmax {largest} · λmin {smallest} · "
        "condition number {kappa}",
        "ce_limit": "near the optimum plain full-batch gradient descent cannot settle above lr = 2/λmax = {limit}",
        "separable": "separable: no finite optimum (every row can be classified right, and longer θ only shrinks the loss "
        "toward 0), so no curvature there",
    },
    "zh": {
        "lesson": "更新规则",
        "step": "第 {step} 步 · 第 {epoch} 轮 · {batch}",
        "batch": "一批 {rows} 个样本",
        "batch_one": "一批 1 个样本",  # Chinese has no plural: the same words
        "more_rows": "……还有 {count} 个样本",
        "more_row": "……还有 1 个样本",
        "by_hand": "手算",
        "optimizer": "优化器",
        "more_gradients": "……还有 {count} 个参数的梯度",
        "more_gradient": "……还有 1 个参数的梯度",
        "more_updates": "……还有 {count} 个参数的更新",
        "more_update": "……还有 1 个参数的更新",
        "columns": "预测值 ŷ = w·x + b    残差 ŷ − y",
        "loss": "损失 = mean((ŷ − y)²) = {loss}（训练过程报告 {reported}）",
        "gradient": "梯度：按链式法则 2/n·Σ(ŷ − y)·x   对照   {source}",
        "update": "参数更新（{algorithm}，学习率 {lr}）",
        "optimizer_made": "优化器算出 {value}",
        "waiting": "开始训练（s）或走一步（n）：每一段的最后一步会在这里逐项写出；暂停时，用 n 走的每一步都会写出。",
        "unrecorded": "到目前为止的步都是在这个视图关闭时走的，而只有它打开时走的步才会逐项写出（写出需要时间）。"
        "用 n 再走一步，或开始训练（s），它就会出现在这里。",
        "stability": "这份数据的曲率",
        "hessian": "均方误差的 Hessian 矩阵：λmax {largest} · λmin {smallest} · 条件数 {kappa}",
        "limit": "全批量梯度下降在 lr > 2/λmax = {limit} 时发散；最快的学习率是 2/(λmax+λmin) = {best}",
        "momentum": "这个碗形上动量法的最佳参数（Goh, Distill 2017）：学习率 {lr}，μ {mu}（全批量）",
        "flat": "有两个特征互相重复：碗沿着一条直线是平的（λmin = 0）",
        "experiments": "实验",
        "apply_optimal": "使用最佳参数（o）",
        "above_limit": "学习率略高于极限（x）",
        "active": "已开启的实验：{names}",
        "ce_columns": "logits z = W·x + b（每个类别一个）    p = softmax(z)：p_c = e^z_c / Σ e^z    −log p(y)：这一行的损失",
        "ce_softmax": "第一行：softmax(z) = ({probabilities})，它的类别 {label}：p(y) = {own}",
        "ce_loss": "损失 = mean(−log p(y)) = {loss}（训练过程报告 {reported}）",
        "ce_gradient": "梯度：按链式法则 dL/dz = (p − onehot(y))/n，dL/dW = (dL/dz)ᵀ·x，dL/db = Σ dL/dz   对照   {source}",
        "ce_hessian": "交叉熵在最优点处的 Hessian 矩阵（它随 θ 变化）：λmax {largest} · λmin {smallest} · 条件数 {kappa}",
        "ce_limit": "在最优点附近，全批量梯度下降在 lr > 2/λmax = {limit} 时无法稳定下来",
        "separable": "线性可分：没有有限的最优点（每一行都能分对，θ 越长损失越接近 0），所以那里没有曲率可言",
    },
}


# keys whose wording changes for one of a thing: "a batch of 1 row", "… and 1 more gradient"
SINGULAR = {"batch": ("rows", "batch_one"), "more_rows": ("count", "more_row"),
            "more_gradients": ("count", "more_gradient"), "more_updates": ("count", "more_update")}


def text(lang: str, key: str, **values) -> str:
    if key == "step":
        values["batch"] = text(lang, "batch", rows=values["rows"])
    if key in SINGULAR and values.get(SINGULAR[key][0]) == 1:
        key = SINGULAR[key][1]
    return LABELS[lang][key].format(**values)
