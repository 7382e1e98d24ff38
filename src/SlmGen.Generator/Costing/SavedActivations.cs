using System.Collections.Generic;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Costing;

/// <summary>
/// What autograd keeps for the backward pass of a transformer block in fp32, in 4-byte elements per sequence of
/// <c>t</c> positions — the tensors PyTorch's derivative formulas save, each storage counted once, as the model's
/// PyTorch twin (src/SlmGen.Runtime/Interop/twin/model.py) runs on CUDA:
/// <list type="bullet">
/// <item>a linear layer keeps its input; a sum keeps nothing; a product of two tensors that need gradients keeps both;
/// a product with a constant (RoPE's tables, a scalar) keeps only the constant;</item>
/// <item>LayerNorm keeps its input and two statistics a position; RMSNorm keeps its input, the reciprocal RMS and — with a
/// learned scale — the normalised tensor before the scale; the norm's output is kept by the linear layers after it;</item>
/// <item>ReLU and tanh keep their output; GELU, SiLU and leaky ReLU their input; squaring keeps its input; dropout keeps
/// a one-byte mask (counted as a quarter element);</item>
/// <item>memory-efficient attention (head sizes that are multiples of 4) keeps q, k, v, its output and a log-sum-exp per
/// head and position (rounded up to 32 positions); the math path (other head sizes) keeps the scaled q and k, the
/// softmax (heads × t × t), with attention dropout its mask and output, and v;</item>
/// <item>k and v repeated for grouped-query heads are new tensors, and those are what attention keeps.</item>
/// </list>
/// Each block keeps the residual-stream tensors its norms (or, without norms, its linear layers) read; the block's output
/// is counted by the block or norm after it. <c>scripts/gpu/peak_memory.py</c> compares these with what autograd kept on the
/// GPU machine (a census by creating op) and the predicted peak with <c>max_memory_allocated</c>.
/// </summary>
internal static class SavedActivations
{
    /// <summary>Bytes kept as one-byte masks, in 4-byte elements (rounded up).</summary>
    private static long Mask(long bytes) => checked((bytes + 3) / 4);

    /// <summary>The attention layer of one application of a block: projections' outputs, the q/k chain, attention's own, its dropout mask.</summary>
    public static long Attention(BlockConfig block, long t)
    {
        checked
        {
            var a = block.Attention;
            long inner = a.InnerWidth, kv = a.KvWidth, h = a.Heads, kvh = a.KvHeads;
            var storages = new Dictionary<string, long>();
            var kept = new HashSet<string>();
            void New(string name, long size) => storages[name] = size;
            void Keep(string name) => kept.Add(a.PackedQkv && name is "q0" or "k0" or "v0" ? "qkv" : name);

            if (a.PackedQkv)
            {
                New("qkv", inner + (2 * kv));
            }
            else
            {
                New("q0", inner);
                New("k0", kv);
                New("v0", kv);
            }

            string q = "q0", k = "k0", v = "v0";
            long extra = 0, logSumExp = 0;
            if (a.QkNorm)
            {
                // RMSNorm over each head: its input and reciprocal RMS; with a scale, the normalised tensor too.
                Keep(q);
                Keep(k);
                extra += h + kvh;
                if (!a.QkNormFree)
                {
                    New("qn", inner);
                    New("kn", kv);
                    Keep("qn");
                    Keep("kn");
                }

                New("qo", inner);
                New("ko", kv);
                (q, k) = ("qo", "ko");
            }

            if (a.Rope is not null)
            {
                New("qr", inner);
                New("kr", kv);
                (q, k) = ("qr", "kr");
            }

            if (a.QueryGain > 0)
            {
                Keep(q);
                New("qg", inner);
                q = "qg";
            }

            if (block.MixesValues)
            {
                // v + λ·(v₁ − v): the product keeps the difference.
                New("vd", kv);
                Keep("vd");
                New("vm", kv);
                v = "vm";
            }

            if (kvh != h)
            {
                New("kx", inner);
                New("vx", inner);
                (k, v) = ("kx", "vx");
            }

            if (a.HeadDim % 4 == 0)
            {
                Keep(q);
                Keep(k);
                Keep(v);
                logSumExp = h * ((t + 31) / 32 * 32); // one per head and position, rounded up to 32 positions
            }
            else
            {
                // The math path: the scaled q and k, the softmax over t × t, the dropout's mask and output, v.
                New("qs", inner);
                New("ks", k is "k0" or "kr" or "ko" ? kv : storages[k]);
                Keep("qs");
                Keep("ks");
                Keep(v);
                extra += h * t * (a.Dropout > 0 ? 2 : 1) + (a.Dropout > 0 ? Mask(h * t) : 0);
            }

            long perPosition = inner + extra; // the output, kept by attention and by the output projection
            foreach (var name in kept)
            {
                perPosition += storages[name];
            }

            if (block.ResidualDropout > 0)
            {
                perPosition += Mask(block.Width);
            }

            if (block.BranchScales)
            {
                perPosition += block.Width; // the branch's output, kept by its scale
            }

            return (t * perPosition) + logSumExp;
        }
    }

    /// <summary>The feed-forward network of one application of a block: what its activation keeps, the output projection's input, the dropout masks.</summary>
    public static long FeedForward(BlockConfig block, long t)
    {
        checked
        {
            var f = block.FeedForward;
            long hidden = f.Hidden, perPosition;
            var dropout = f.Dropout > 0;
            switch (f.Activation)
            {
                case Act.SwiGlu:
                    perPosition = 3 * hidden; // the gate's output (SiLU's input), SiLU's output and the up projection (the product's inputs)
                    break;
                case Act.Relu or Act.Tanh:
                    perPosition = hidden; // the output: the activation's and, without dropout, the projection's
                    break;
                case Act.Gelu or Act.Silu:
                    perPosition = hidden; // the input
                    break;
                case Act.ReluSquared:
                    perPosition = hidden; // ReLU's output, squared
                    break;
                case Act.LeakyReluSquared:
                    perPosition = 2 * hidden; // the input and the leaky ReLU's output
                    break;
                default:
                    perPosition = 0;
                    break;
            }

            // The output projection's input: the activation's output (already counted for ReLU and tanh without dropout)
            // or dropout's output and mask.
            var activationKeepsItsOutput = f.Activation is Act.Relu or Act.Tanh;
            perPosition += dropout ? hidden + Mask(hidden) : activationKeepsItsOutput ? 0 : hidden;
            if (block.ResidualDropout > 0)
            {
                perPosition += Mask(block.Width);
            }

            if (block.BranchScales)
            {
                perPosition += block.Width;
            }

            return t * perPosition;
        }
    }

    /// <summary>
    /// The residual stream and the norms of one application of a block: the tensors the norms (or, without norms, the
    /// linear layers) read, what each norm keeps, the block's input kept by a residual mix.
    /// </summary>
    public static long ResidualAndNorms(BlockConfig block, long t)
    {
        checked
        {
            long d = block.Width;
            var norm = block.Norm;
            var (inputs, outputs) = norm.PreNorm
                ? (block.Parallel ? 1 : 2, 2)                  // pre-norm: x (and the sum after attention); each norm's output
                : (norm.Kind == NormKind.None ? 2 : 3, 1);     // post-norm: x, both sums; ln_1's output (ln_2's is the next block's x)
            var norms = norm.Kind == NormKind.None ? 0 : 2;
            return t * ((inputs * d) + (norms == 0 ? 0 : outputs * d) + (norms * NormExtra(norm.Kind, d)) + (block.ResidualMix ? d : 0));
        }
    }

    /// <summary>What a norm keeps at one position of <paramref name="width"/> besides its input and output: LayerNorm's mean and reciprocal standard deviation; RMSNorm's reciprocal RMS and, with a scale, the normalised tensor before it.</summary>
    public static long NormExtra(NormKind kind, long width) => kind switch
    {
        NormKind.LayerNorm => 2,
        NormKind.RmsNorm => checked(1 + width),
        NormKind.RmsNormFree => 1,
        _ => 0,
    };
}
