// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): the kernels of a training
// step and of a decoding step, enumerated from a model's plan with their shapes, FLOPs and bytes, for the time model
// (TimeModel). The generator predicts time at build time from it; the runtime's `slmgen costs --device` prints it.
using System;
using System.Collections.Generic;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>What bounds a kernel's time in the time model.</summary>
public enum OpKind
{
    /// <summary>A matrix product (M × K by K × N): time from the profile's rate for that shape.</summary>
    Matmul = 0,
    /// <summary>Scaled dot-product attention over (batch·heads) × T × T with head size d: time from the profile's attention rate.</summary>
    Attention = 1,
    /// <summary>Elementwise, reductions, norms, gathers, copies: time = bytes moved / the profile's bandwidth.</summary>
    Memory = 2,
}

/// <summary>Which of a layer's three products a matmul is: its operands' layout, which picks the kernel.</summary>
public enum MatmulLayout
{
    /// <summary>A layer's forward product, <c>x · Wᵀ</c> (M rows × N output features, K input features).</summary>
    Forward = 0,
    /// <summary>Its input gradient, <c>dY · W</c> (M rows × N input features, summed over K output features).</summary>
    InputGradient = 1,
    /// <summary>Its weight gradient, <c>dYᵀ · X</c> (M output features × N input features, summed over K rows).</summary>
    WeightGradient = 2,
}

/// <summary>Which part of a step a kernel belongs to.</summary>
public enum OpPhase
{
    /// <summary>The forward pass.</summary>
    Forward = 0,
    /// <summary>The backward pass.</summary>
    Backward = 1,
    /// <summary>The optimizer step (and zeroing the gradients).</summary>
    Optimizer = 2,
}

/// <summary>One kernel (or a few fused ones counted as <see cref="Launches"/>) of a step.</summary>
/// <param name="Component">The cost row it belongs to (the plan step's field, or a stack's part).</param>
/// <param name="Name">What it is.</param>
/// <param name="Phase">Forward, backward or optimizer.</param>
/// <param name="Kind">How its time is bounded.</param>
/// <param name="M">Rows of a matmul, or (batch·heads) of attention.</param>
/// <param name="N">Columns of a matmul, or T of attention.</param>
/// <param name="K">The inner size of a matmul, or the head size of attention.</param>
/// <param name="Flops">FLOPs (FlopCounterMode's convention).</param>
/// <param name="Bytes">Bytes read and written.</param>
/// <param name="Launches">Kernels it launches.</param>
public sealed record StepOp(string Component, string Name, OpPhase Phase, OpKind Kind, long M, long N, long K, double Flops, double Bytes, int Launches)
{
    /// <summary>Keys attended to (attention; 0 otherwise).</summary>
    public long Keys { get; init; }

    /// <summary>How many alike copies of it the step runs (the blocks of a uniform stack).</summary>
    public int Count { get; init; } = 1;

    /// <summary>
    /// A matmul's layer widths' greatest common divisor (input and output features): the product is aligned on a device
    /// when it is a multiple of the device's alignment (<see cref="DeviceProfile.Alignment"/>); 0 for other kernels.
    /// </summary>
    public long FeatureDivisor { get; init; }

    /// <summary>
    /// A matmul's operand layout (a layer's forward product or one of its two gradients): with an unaligned output size
    /// each runs a kernel of its own (on an H200, GPT-2's 50,257-wide head ran its gradients 1.6–1.8× faster than its
    /// forward product), so the profile measures each where it can (<see cref="DeviceProfile.UnalignedMatmulRate"/>).
    /// </summary>
    public MatmulLayout Layout { get; init; }
}

/// <summary>
/// The training recipe's work besides the plan's layers that the time model counts: <paramref name="Ema"/> (train's
/// <c>ema_decay</c> above 0: a moving average of the weights after every step) and <paramref name="ZLoss"/> (train's
/// <c>z_loss</c> above 0).
/// </summary>
public sealed record StepRecipe(bool Ema, bool ZLoss)
{
    /// <summary>Neither.</summary>
    public static readonly StepRecipe None = new(false, false);

    /// <summary>The recipe of train's settings: an EMA decay and a z-loss weight (0 = none).</summary>
    public static StepRecipe Of(double emaDecay, double zLoss) => new(emaDecay > 0, zLoss > 0);
}

/// <summary>
/// The kernels of one training step of a plan (forward, backward, loss, optimizer) at a batch, and of a decoding step
/// (a prefill, or one new token with a KV cache of t positions). An approximation of what PyTorch launches, per
/// layer: each linear layer is one matmul forward (its bias in the epilogue) and two backward (inputs' and weights'
/// gradients) plus the bias gradient's reduction; a norm, activation, residual add, dropout, rotary embedding or scale is a memory-bound kernel
/// reading and writing its tensors; attention is the fused kernel, forward and backward; the loss is a log-softmax and
/// its gradient over the logits; AdamW over a flat buffer reads and writes its four fp32 tensors.
/// </summary>
public static class StepOps
{
    /// <summary>The kernels of a training step of <paramref name="batch"/> windows of <paramref name="context"/> tokens, activations of <paramref name="elementBytes"/> bytes.</summary>
    /// <remarks>
    /// <paramref name="fused"/>: the kernels of SlmGen's fused path (libslmgen_native on CUDA: a device profile measured
    /// with them says so, <see cref="DeviceProfile.FusedKernels"/>) — RMSNorm, a pre-norm block's residual add and the
    /// next norm, bias + GELU / squared ReLU, the SwiGLU gate, RoPE and the loss each one kernel a way.
    /// </remarks>
    /// <remarks>
    /// The <paramref name="recipe"/>'s kernels besides the plan's: an EMA of the fp32 master weights after each optimizer
    /// step (two kernels over every parameter); the z-loss — inside the fused cross-entropy kernel at no cost, written
    /// out (log-sum-exp, square, scale, add, and their backward) otherwise.
    /// </remarks>
    public static List<StepOp> Training(IReadOnlyList<PlanStep> steps, int batch, long context, int elementBytes, long parameters, bool fused = false, StepRecipe? recipe = null)
    {
        recipe ??= StepRecipe.None;
        var b = new Builder(elementBytes, training: true, fused) { ZLoss = recipe.ZLoss };
        Forward(b, steps, batch, context, context, 0);
        b.Optimizer(parameters);
        if (recipe.Ema)
        {
            b.Ema(parameters);
        }

        return b.Ops;
    }

    /// <summary>
    /// The kernels of one decoding step: <paramref name="newTokens"/> new positions per sequence (the prompt at a prefill, 1
    /// after it) attending to <paramref name="cached"/> cached ones, at <paramref name="batch"/> sequences, logits at the last position.
    /// With <paramref name="cacheCapacity"/> (the cache's positions: the model's context), a prefill (<paramref name="cached"/>
    /// = 0) also lists the fresh cache's allocation: two zero-filled buffers of that many positions per attention application.
    /// </summary>
    public static List<StepOp> Decoding(IReadOnlyList<PlanStep> steps, int batch, long newTokens, long cached, int elementBytes, bool fused = false, long cacheCapacity = 0)
    {
        var b = new Builder(elementBytes, training: false, fused) { CacheCapacity = cached == 0 ? cacheCapacity : 0 };
        Forward(b, steps, batch, newTokens, newTokens + cached, cached);
        return b.Ops;
    }

    private static void Forward(Builder b, IReadOnlyList<PlanStep> steps, int batch, long t, long keys, long cached)
    {
        var rows = batch * t;
        var predictsEveryPosition = true;
        foreach (var s in steps)
        {
            if (s is FlattenStep)
            {
                predictsEveryPosition = false;
            }
        }

        foreach (var step in steps)
        {
            var r = step.PerPosition ? rows : batch;
            var f = step.Field;
            switch (step)
            {
                case EmbeddingStep e:
                    if (e.Bits > 0)
                    {
                        b.FakeQuant(f, "embedding table", e.Vocab * e.Dim);
                    }

                    b.Memory(f, "embedding look-up", r * e.Dim, 2, 1);
                    if (b.Training)
                    {
                        b.Memory(f, "embedding gradient (zero, index_add)", (e.Vocab * e.Dim) + (r * e.Dim), 2, 2, OpPhase.Backward);
                    }

                    break;
                case PositionsStep p when p.Kind != PositionKind.None:
                    b.Memory(f, "positions look-up and add", r * p.Dim, 3, p.Kind == PositionKind.Learned ? 2 : 1);
                    break;
                case BigramStep g:
                    b.Memory(f, "bigram hash and look-up", r * (g.Dim + 4), 2, 4);
                    if (g.Projects)
                    {
                        b.Linear(f, "bigram projection", r, g.Dim, g.Width, false);
                    }

                    b.Memory(f, "bigram add", r * g.Width, 3, 1);
                    break;
                case EmbeddingDropoutStep d:
                    b.Memory(f, "dropout", r * d.Dim, 3, 1);
                    break;
                case FlattenStep fl:
                    b.Memory(f, "flatten (copy)", batch * fl.OutWidth, 2, 1);
                    break;
                case DenseStep d:
                    b.Linear(f, "dense", r, d.InWidth, d.OutWidth, d.Bias, bits: d.Bits);
                    if (d.Activation != Act.Identity)
                    {
                        b.Memory(f, "activation", r * d.OutWidth, 2, 1);
                    }

                    if (d.Dropout > 0)
                    {
                        b.Memory(f, "dropout", r * d.OutWidth, 3, 1);
                    }

                    break;
                case StackStep stack:
                    Stack(b, stack, batch, t, keys, cached);
                    break;
                case FinalNormStep n:
                    b.Norm(f, "final norm", r * n.Width, n.Kind);
                    break;
                case HeadStep h:
                    // Training: logits at every predicting position; decoding: at the last one.
                    var headRows = b.Training ? (predictsEveryPosition ? rows : batch) : batch;
                    Head(b, h, headRows);
                    break;
            }
        }
    }

    private static void Stack(Builder b, StackStep stack, int batch, long t, long keys, long cached)
    {
        var rows = batch * t;
        var first = b.Ops.Count;
        for (var i = 0; i < stack.Blocks; i++)
        {
            var block = stack.BlockAt(i);
            var component = stack.IsUniform ? stack.Field : $"{stack.Field}[{i}]";
            var a = block.Attention;
            var d = block.Width;
            for (var app = 0L; app < stack.ApplicationsPerBlock; app++)
            {
                b.Norm(component + ".norms", "norm", rows * d, block.Norm.Kind);
                if (a.PackedQkv)
                {
                    b.Linear(component + ".attn", "q/k/v", rows, d, a.InnerWidth + (2 * a.KvWidth), a.Bias, bits: a.WeightBits);
                }
                else
                {
                    b.Linear(component + ".attn", "q", rows, d, a.InnerWidth, a.Bias, bits: a.WeightBits);
                    b.Linear(component + ".attn", "k", rows, d, a.KvWidth, a.Bias, bits: a.WeightBits);
                    b.Linear(component + ".attn", "v", rows, d, a.KvWidth, a.Bias, bits: a.WeightBits);
                }

                if (a.QkNorm && b.Fused)
                {
                    b.Norm(component + ".attn", "QK-norm (q)", rows * a.InnerWidth, NormKind.RmsNorm);
                    b.Norm(component + ".attn", "QK-norm (k)", rows * a.KvWidth, NormKind.RmsNorm);
                }
                else if (a.QkNorm)
                {
                    b.Memory(component + ".attn", "QK-norm", rows * (a.InnerWidth + a.KvWidth), 8, 2 * NormKernels(NormKind.RmsNorm));
                }

                if (a.Rope is not null && b.Fused)
                {
                    // One kernel for q and one for k each way, partial rotation included (reads strided, writes contiguous).
                    b.Memory(component + ".attn", "rotary embedding (fused)", rows * (a.InnerWidth + a.KvWidth), 2, 2);
                }
                else if (a.Rope is not null)
                {
                    // Rotate-half on q and k: a negation, a concatenation, two products and a sum each (partial RoPE: a split and a concatenation more).
                    b.Memory(component + ".attn", "rotary embedding", rows * (a.InnerWidth + a.KvWidth), 6, a.RotaryDims < a.HeadDim ? 14 : 10);
                }

                if (a.PackedQkv && b.Training)
                {
                    // Backward stacks the q, k and v gradients into the packed projection's output gradient: one copy
                    // (CatArrayBatchedCopy, 24 µs a block at baby GPT's shape on an H100: results/fused/README.md).
                    b.Memory(component + ".attn", "q/k/v gradients stacked", rows * (a.InnerWidth + (2 * a.KvWidth)), 2, 1, OpPhase.Backward);
                }

                // The heads' output back to (rows, inner): one copy.
                b.Memory(component + ".attn", "heads merged", rows * a.InnerWidth, 2, 1);

                if (cached > 0 || !b.Training)
                {
                    b.Memory(component + ".attn", "KV cache append and read", (batch * keys * 2 * a.KvWidth) + (rows * 2 * a.KvWidth), 1, 2);
                }

                if (b.CacheCapacity > 0)
                {
                    // A prefill's first pass gives each attention application its slot: keys and values for the cache's
                    // whole capacity, zero-filled (KvCache.Append).
                    b.Memory(component + ".attn", "KV cache allocated (zero-filled)", batch * b.CacheCapacity * 2 * a.KvWidth, 1, 2);
                }

                if (a.KvHeads != a.Heads)
                {
                    b.Memory(component + ".attn", "k/v repeated for the query groups", batch * keys * 2 * a.InnerWidth, 2, 2);
                }

                b.Attention(component + ".attn", batch * (long)a.Heads, t, keys, a.HeadDim);
                b.Linear(component + ".attn", "output projection", rows, a.InnerWidth, d, a.Bias, bits: a.WeightBits);
                var branchKernels = (block.ResidualDropout > 0 ? 1 : 0) + (block.BranchScales ? 1 : 0);
                if (b.Fused && block.Norm.PreNorm && !block.Parallel && block.Norm.Kind != NormKind.None && !block.DepthScaledNorms)
                {
                    // TransformerBlock: x + attention and the MLP's norm in one kernel (reads both, writes the sum and the norm);
                    // not with depth-scaled norms (their outputs are scaled: the unfused path; block 0's scale of 1 is fused, a
                    // detail the listing of alike blocks leaves out).
                    b.Memory(component + ".attn", "residual dropout / scale", rows * d, 3, branchKernels);
                    b.Memory(component + ".norms", "residual add + norm (fused)", rows * d, 4, 1);
                    b.NormWeightGradient(component + ".norms", rows * d, block.Norm.Kind);
                }
                else
                {
                    b.Memory(component + ".attn", "residual add", rows * d, 3, 1 + branchKernels);
                    b.Norm(component + ".norms", "norm", rows * d, block.Norm.Kind);
                }

                var ffn = block.FeedForward;
                // The fused bias + activation takes a plain linear layer's product without its bias (not an adapted or quantised one).
                var biasInActivation = b.Fused && ffn.Bias && ffn.Activation is Act.Gelu or Act.ReluSquared && ffn.WeightBits == 0 && block.Sharing.LoraRank == 0;
                b.Linear(component + ".mlp", "fc", rows, d, ffn.Hidden, ffn.Bias && !biasInActivation, bits: ffn.WeightBits);
                if (ffn.Activation == Act.SwiGlu)
                {
                    b.Linear(component + ".mlp", "gate", rows, d, ffn.Hidden, ffn.Bias, bits: ffn.WeightBits);
                }

                var activationKernels = ffn.Activation == Act.SwiGlu && !b.Fused ? 2 : 1;
                b.Memory(component + ".mlp", biasInActivation ? "bias + activation (fused)" : "activation", rows * ffn.Hidden, ffn.Activation == Act.SwiGlu ? 3 : 2, activationKernels);
                if (biasInActivation && b.Training)
                {
                    // The bias gradient's column sums come out of the activation's backward as partial sums; one reduction adds them.
                    b.Memory(component + ".mlp", "bias gradient (partial sums added)", Math.Min(256, (rows + 63) / 64) * ffn.Hidden, 1, 1, OpPhase.Backward, elementBytes: 4);
                }
                b.Linear(component + ".mlp", "proj", rows, ffn.Hidden, d, ffn.Bias, bits: ffn.WeightBits);
                b.Memory(component + ".mlp", "residual add", rows * d, 3, 1 + (block.ResidualDropout > 0 ? 1 : 0) + (block.BranchScales ? 1 : 0));
                if (block.Sharing.LoraRank > 0)
                {
                    var adapted = a.PackedQkv ? new[] { (d, a.InnerWidth + (2 * a.KvWidth)) } : new[] { (d, a.InnerWidth), (d, a.KvWidth), (d, a.KvWidth) };
                    foreach (var (input, output) in adapted)
                    {
                        b.Lora(component + ".lora", rows, input, output, block.Sharing.LoraRank);
                    }

                    b.Lora(component + ".lora", rows, a.InnerWidth, d, block.Sharing.LoraRank);
                    b.Lora(component + ".lora", rows, d, ffn.Hidden, block.Sharing.LoraRank);
                    if (ffn.Activation == Act.SwiGlu)
                    {
                        b.Lora(component + ".lora", rows, d, ffn.Hidden, block.Sharing.LoraRank);
                    }

                    b.Lora(component + ".lora", rows, ffn.Hidden, d, block.Sharing.LoraRank);
                }

                if (block.ResidualMix || block.MixesValues || (stack.UNetSkips && i >= stack.Blocks - stack.Skips))
                {
                    b.Memory(component + ".residual", "residual mixing", rows * d, 3, 2);
                }
            }

            if (stack.IsUniform && i == 0 && stack.Blocks > 1)
            {
                // Alike blocks: the first block's kernels stand for all of them.
                b.Repeat(first, stack.Blocks);
                break;
            }
        }
    }

    /// <summary>Kernels of a norm in SlmGen's runtime: LayerNorm is one fused kernel; RMSNorm is written out (square, mean, add, reciprocal root, product, and the scale's product).</summary>
    private static int NormKernels(NormKind kind) => kind switch
    {
        NormKind.LayerNorm => 1,
        NormKind.RmsNorm => 6,
        NormKind.RmsNormFree => 5,
        _ => 0,
    };

    private static void Head(Builder b, HeadStep h, long rows)
    {
        var f = h.Field;
        switch (h.Kind)
        {
            case HeadKind.Factorised:
                b.Linear(f, "head down", rows, h.InWidth, h.Rank, false);
                b.Linear(f, "head out", rows, h.Rank, h.Vocab, h.Bias);
                break;
            case HeadKind.Grouped when h.Conditioned && !b.Training:
                // The full distribution: every group's positions from that group's gated features.
                b.Linear(f, "head groups", rows, h.InWidth, h.Groups, false);
                b.Memory(f, "group gates (every group)", rows * h.Groups * h.InWidth, 2, 2);
                b.Linear(f, "head ids (every group)", rows * h.Groups, h.InWidth, h.GroupSize, false);
                break;
            case HeadKind.Grouped:
                b.Linear(f, "head groups", rows, h.InWidth, h.Groups, false);
                if (h.Conditioned)
                {
                    // The loss scores the target's group only: its gate looked up and applied (and their gradients).
                    b.Memory(f, "group gate (look-up, scale)", rows * h.InWidth, 3, 3);
                    b.Memory(f, "group gate gradient", rows * h.InWidth, 4, 3, OpPhase.Backward);
                }

                b.Linear(f, "head ids", rows, h.InWidth, h.GroupSize, false);
                break;
            default:
                b.Linear(f, "head", rows, h.InWidth, h.Vocab, h.Bias && h.Kind == HeadKind.Full, weightGradient: true, bits: h.Bits);
                break;
        }

        var logits = rows * (h.Kind != HeadKind.Grouped ? h.Vocab : h.Conditioned && !b.Training ? h.Groups + (h.Groups * h.GroupSize) : h.Groups + h.GroupSize);
        if (h.SoftCap > 0)
        {
            b.Memory(f, "soft-cap", logits, 2, 3);
        }

        if (!b.Training)
        {
            // Decoding draws the next token: the logits in fp32, argmax (greedy), the id read back by the host; and the
            // next step uploads it.
            b.Memory("sampling", "draw (fp32 logits, argmax, read back, upload)", logits, 2, 4, elementBytes: 4);
        }

        if (b.Training && b.Fused && h.Kind != HeadKind.Grouped)
        {
            // The fused cross-entropy: one read of the logits in their dtype forward (and the mean), a read and a write backward.
            b.Memory(f + ".loss", "cross-entropy (fused)", logits, 1, 2);
        }
        else if (b.Training)
        {
            // The loss: log-softmax (fp32) and the NLL gather; backward: softmax − one-hot.
            b.Memory(f + ".loss", "log-softmax and NLL", logits, 2, 3, elementBytes: 4);
            b.Memory(f + ".loss", "loss gradient", logits, 3, 2, OpPhase.Backward, elementBytes: 4);
            if (b.ZLoss)
            {
                // z · mean(logsumexp²) written out: the log-sum-exp reads the logits again (max, exp-sum, log), then a
                // square, a scale and the add; backward, the softmax's share of its gradient over the logits.
                b.Memory(f + ".loss", "z-loss", logits, 1, 6, elementBytes: 4);
            }
        }
    }

    private sealed class Builder
    {
        private readonly int elementBytes;

        public Builder(int elementBytes, bool training, bool fused)
        {
            this.elementBytes = elementBytes;
            Training = training;
            Fused = fused;
        }

        public bool Training { get; }

        /// <summary>A prefill's fresh KV cache: the positions each attention application's buffers are allocated for (0: none allocated in this step).</summary>
        public long CacheCapacity { get; init; }

        /// <summary>Whether the step runs SlmGen's fused kernels.</summary>
        public bool Fused { get; }

        /// <summary>
        /// A norm over <paramref name="elements"/> values: unfused, its kernels as <see cref="NormKernels"/> counts them;
        /// fused, an RMSNorm is one kernel reading and writing once (LayerNorm is one either way), its backward one
        /// more for the scale's gradient.
        /// </summary>
        public void Norm(string component, string name, long elements, NormKind kind)
        {
            if (Fused && kind is NormKind.RmsNorm or NormKind.RmsNormFree)
            {
                Memory(component, name + " (fused)", elements, 2, 1);
                NormWeightGradient(component, elements, kind);
                return;
            }

            var norms = NormKernels(kind);
            Memory(component, name, elements, norms == 0 ? 0 : 2 + norms, norms);
        }

        /// <summary>The fused norm's weight (and bias) gradient: column partial sums over the rows, then their sum.</summary>
        public void NormWeightGradient(string component, long elements, NormKind kind)
        {
            if (Training && kind is NormKind.RmsNorm or NormKind.LayerNorm)
            {
                Memory(component, "norm weight gradient", elements, 2, 2, OpPhase.Backward);
            }
        }

        public List<StepOp> Ops { get; } = new();

        /// <summary>A memory-bound kernel over <paramref name="elements"/> elements, reading and writing <paramref name="passes"/> tensors of them; its backward moves twice as much.</summary>
        public void Memory(string component, string name, long elements, int passes, int launches, OpPhase phase = OpPhase.Forward, int elementBytes = 0)
        {
            if (passes <= 0 || launches <= 0)
            {
                return;
            }

            var size = elementBytes > 0 ? elementBytes : this.elementBytes;
            Ops.Add(new StepOp(component, name, phase, OpKind.Memory, elements, 0, 0, 0, (double)elements * passes * size, launches));
            if (Training && phase == OpPhase.Forward)
            {
                Ops.Add(new StepOp(component, name + " (backward)", OpPhase.Backward, OpKind.Memory, elements, 0, 0, 0, 2.0 * elements * passes * size, launches));
            }
        }

        public void Linear(string component, string name, long rows, long input, long output, bool bias, bool weightGradient = true, int bits = 0)
        {
            if (bits > 0)
            {
                FakeQuant(component, name, input * output);
            }

            // The bias is in the GEMM's epilogue (Linears.Apply gives a biased layer its input as rows: addmm), not a
            // kernel of its own forward; backward sums its gradient over the rows.
            Ops.Add(Matmul(component, name, OpPhase.Forward, rows, output, input, input, output));
            if (Training)
            {
                Ops.Add(Matmul(component, name + " input gradient", OpPhase.Backward, rows, input, output, input, output) with { Layout = MatmulLayout.InputGradient });
                if (weightGradient)
                {
                    Ops.Add(Matmul(component, name + " weight gradient", OpPhase.Backward, output, input, rows, input, output) with { Layout = MatmulLayout.WeightGradient });
                }

                if (bias)
                {
                    // libtorch's column reduction, one kernel; fused, SlmGen's: partial sums over strips, then their sum.
                    Ops.Add(new StepOp(component, name + " bias gradient", OpPhase.Backward, OpKind.Memory, rows * output, 0, 0, 0, (double)rows * output * elementBytes, Fused ? 2 : 1));
                }
            }
        }

        public void Lora(string component, long rows, long input, long output, long rank)
        {
            Linear(component, "LoRA A", rows, input, rank, false);
            Linear(component, "LoRA B", rows, rank, output, false);
            Memory(component, "LoRA add", rows * output, 3, 1);
        }

        public void Attention(string component, long batchHeads, long queries, long keys, long headSize)
        {
            var flops = 4.0 * batchHeads * queries * keys * headSize;
            var bytes = (double)batchHeads * ((2 * queries) + (2 * keys)) * headSize * elementBytes;
            Ops.Add(new StepOp(component, "attention", OpPhase.Forward, OpKind.Attention, batchHeads, queries, headSize, flops, bytes, 1) { Keys = keys });
            if (Training)
            {
                Ops.Add(new StepOp(component, "attention (backward)", OpPhase.Backward, OpKind.Attention, batchHeads, queries, headSize, 2.5 * flops, 2.5 * bytes, 1) { Keys = keys });
            }
        }

        /// <summary>The optimizer over <paramref name="parameters"/> fp32 parameters in one flat buffer: AdamW reads the weights, gradients and two moments and writes three; zeroing the gradients writes one.</summary>
        public void Optimizer(long parameters)
        {
            Ops.Add(new StepOp("optimizer", "AdamW (flat buffer)", OpPhase.Optimizer, OpKind.Memory, parameters, 0, 0, 0, 7.0 * 4 * parameters, 6));
            Ops.Add(new StepOp("optimizer", "zero gradients", OpPhase.Optimizer, OpKind.Memory, parameters, 0, 0, 0, 4.0 * parameters, 1));
        }

        /// <summary>
        /// Quantisation-aware training's fake quantisation of a weight of <paramref name="elements"/> values, every forward
        /// pass (SlmGen.Layers.FakeQuant.Weight): the group absmax (abs, amax), the scales (clamp, divide), spread over the
        /// columns, then divide, round, clamp, multiply, and the straight-through <c>w + (q − w).detach()</c> (subtract,
        /// add) — eleven kernels, about twenty passes over the weight; the straight-through backward adds none.
        /// </summary>
        public void FakeQuant(string component, string name, long elements)
        {
            Ops.Add(new StepOp(component, name + " fake quantisation", OpPhase.Forward, OpKind.Memory, elements, 0, 0, 0, 20.0 * elements * elementBytes, 11));
        }

        /// <summary>The weights' exponential moving average after the optimizer step: <c>ema·d + master·(1−d)</c> in place over the fp32 master weights (a product, then a sum reading both).</summary>
        public void Ema(long parameters)
        {
            Ops.Add(new StepOp("optimizer", "weight EMA", OpPhase.Optimizer, OpKind.Memory, parameters, 0, 0, 0, 5.0 * 4 * parameters, 2));
        }

        /// <summary>Whether the loss adds the z-loss (train's <c>z_loss</c>).</summary>
        public bool ZLoss { get; init; }

        /// <summary>The kernels from index <paramref name="from"/> on stand for <paramref name="count"/> alike copies.</summary>
        public void Repeat(int from, int count)
        {
            for (var i = from; i < Ops.Count; i++)
            {
                Ops[i] = Ops[i] with { Count = Ops[i].Count * count };
            }
        }

        private StepOp Matmul(string component, string name, OpPhase phase, long m, long n, long k, long input, long output) =>
            new(component, name, phase, OpKind.Matmul, m, n, k, 2.0 * m * n * k, (double)((m * k) + (k * n) + (m * n)) * elementBytes, 1) { FeatureDivisor = Divisor(input, output) };

        private static long Divisor(long a, long b) => b == 0 ? a : Divisor(b, a % b);
    }
}
