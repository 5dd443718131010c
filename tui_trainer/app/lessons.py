"""The words of the Learn view, in English and in Chinese (the seed notes' language).

Each algorithm has its rule as a formula and a paragraph on what it fixes in the rule before it,
following the seed's story: BGD -> SGD -> mini-batch -> Momentum -> AdaGrad -> RMSProp -> Adam.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

RULES = {
    "bgd": "θ ← θ − lr·∇L(θ)   with ∇L over every training row",
    "sgd": "θ ← θ − lr·∇Lᵢ(θ)   with ∇Lᵢ from one random row",
    "mbgd": "θ ← θ − lr·∇L_B(θ)   with ∇L_B from a random batch B",
    "momentum": "v ← μ·v + g;   θ ← θ − lr·v",
    "adagrad": "s ← s + g²;   θ ← θ − lr·g / (√s + ε)",
    "rmsprop": "s ← α·s + (1−α)·g²;   θ ← θ − lr·g / (√s + ε)",
    "adam": "m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²;   m̂ = m/(1−β1ᵗ);   v̂ = v/(1−β2ᵗ);   θ ← θ − lr·m̂ / (√v̂ + ε)",
}

STORIES = {
    "en": {
        "bgd": "Batch gradient descent looks at every training row before each step, so every step "
        "points straight down the slope of the whole loss. That is exact but slow: one step costs a "
        "full pass over the data, which hurts when the data is large.",
        "sgd": "Stochastic gradient descent fixes the cost: each step uses one random row, so a "
        "step is cheap and many steps fit in one pass. The price is noise — a single row's gradient "
        "points only roughly downhill, so the loss jitters and never quite settles.",
        "mbgd": "Mini-batch gradient descent sits between the two: a small random batch per step "
        "averages away much of SGD's noise while staying far cheaper than the whole data. It still "
        "needs one well-chosen learning rate, and near the bottom it keeps wandering.",
        "momentum": "Momentum smooths the steps: it keeps a running sum of past gradients (v) and "
        "moves along it. Directions that agree from step to step build up speed; directions that "
        "flip sign cancel out. Steep, narrow valleys that make plain steps zig-zag are crossed calmly.",
        "adagrad": "AdaGrad gives every parameter its own learning rate: it divides by the square "
        "root of that parameter's summed squared gradients (s). Parameters with big gradients slow "
        "down, rare or small ones keep moving. But s only grows, so in time every step shrinks to nothing.",
        "rmsprop": "RMSProp fixes AdaGrad's ever-shrinking steps: instead of summing squared "
        "gradients it keeps their decaying average (α weighs the past). The per-parameter scaling "
        "stays, but old gradients are forgotten, so learning never stalls for good.",
        "adam": "Adam joins momentum and RMSProp: m is a decaying mean of the gradients (the "
        "direction), v a decaying mean of their squares (the scale). Both start at zero, so early on "
        "they are too small; dividing by 1−βᵗ (bias correction) undoes that.",
    },
    "zh": {
        "bgd": "批量梯度下降每走一步都要看完全部训练样本，所以每一步都沿着整个损失函数的下坡方向前进。"
        "它很准，但很慢：走一步就要把数据完整过一遍，数据一大就吃不消。",
        "sgd": "随机梯度下降解决了代价问题：每一步只用一个随机样本，一步很便宜，过一遍数据就能走很多步。"
        "代价是噪声：单个样本的梯度只是大致指向下坡，损失会抖动，始终停不稳。",
        "mbgd": "小批量梯度下降介于两者之间：每一步用一小批随机样本，既平均掉了随机梯度下降的大部分噪声，"
        "又比用全部数据便宜得多。但它仍需要一个合适的学习率，而且在最低点附近还会来回徘徊。",
        "momentum": "动量法让步子变得平滑：它累积过去梯度的加权和（v），并沿着它前进。"
        "每一步方向一致的分量越走越快，来回变号的分量互相抵消；原本会让普通步子之字形前进的又陡又窄的山谷，"
        "现在可以平稳地穿过。",
        "adagrad": "AdaGrad 给每个参数各自的学习率：用该参数历次梯度平方和（s）的平方根去除。"
        "梯度大的参数走得慢，梯度小或少见的参数继续前进。但 s 只增不减，久而久之每一步都会缩到几乎为零。",
        "rmsprop": "RMSProp 解决了 AdaGrad 步长越来越小的问题：它不再累加梯度平方，而是保留其衰减平均（α 表示对过去的权重）。"
        "按参数缩放的好处还在，旧的梯度会被逐渐遗忘，学习不会永远停滞。",
        "adam": "Adam 把动量法和 RMSProp 结合起来：m 是梯度的衰减平均（方向），v 是梯度平方的衰减平均（尺度）。"
        "两者都从零开始，所以一开始偏小；除以 1−βᵗ（偏差修正）正是为了抵消这一点。",
    },
}

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
        "step": "Step {step} · epoch {epoch} · a batch of {rows} rows",
        "more_rows": "… and {count} more rows",
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
    },
    "zh": {
        "lesson": "更新规则",
        "step": "第 {step} 步 · 第 {epoch} 轮 · 一批 {rows} 个样本",
        "more_rows": "……还有 {count} 个样本",
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
    },
}


def text(lang: str, key: str, **values) -> str:
    return LABELS[lang][key].format(**values)
