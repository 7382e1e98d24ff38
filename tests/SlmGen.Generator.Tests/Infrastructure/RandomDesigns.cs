using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>
/// Random <em>valid</em> designs: every layer kind in every legal order (transformer stacks and dense
/// layers mixed before an optional flatten, dense layers after it), odd and prime sizes, several stacks of
/// different widths, shared repeats, every position kind and every head kind. Each renders as YAML and
/// as attributes, so both front-ends are exercised.
/// </summary>
internal sealed class RandomDesigns
{
    private static readonly int[] Sizes = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 24 };
    private static readonly string[] DenseActivations = { "relu", "gelu", "silu", "tanh", "identity" };
    private static readonly string[] FfnActivations = { "relu", "gelu", "silu", "swiglu", "tanh", "identity" };
    private readonly Random rng;
    private readonly Random recentRng;
    private readonly bool levers;
    private readonly bool recent;
    private readonly Random groupedRng;
    private readonly bool grouped;

    /// <param name="levers">Also draw the compact-model levers (grouped-query attention, head sizes, layer-wise
    /// allocation, block-wise repeats, LoRA); false keeps the draws of the first rounds, whose PyTorch records exist.</param>
    /// <param name="recent">With <paramref name="levers"/>, also the settings added since the twins' records (QK-norm and
    /// the compact-model vocabulary: squared ReLUs, parameter-free norms, query gains, partial RoPE, branch scales,
    /// residual mixing, parallel blocks, U-Net skips, soft-capped heads), drawn from a second generator so that the
    /// designs' other draws are those of the same seed without them.</param>
    /// <param name="grouped">Also grouped heads, conditioned on the group or not (drawn from a third generator, so the
    /// designs of seeds with PyTorch records stay the same).</param>
    public RandomDesigns(int seed, bool levers = false, bool recent = false, bool grouped = false)
    {
        rng = new Random(seed);
        recentRng = new Random((seed * 7919) + 17);
        groupedRng = new Random((seed * 104729) + 31);
        this.levers = levers;
        this.recent = recent;
        this.grouped = grouped;
    }

    /// <summary>One design as (YAML text or null, attribute text or null): exactly one of the two is set.</summary>
    public (string? Yaml, string? Attributes) Next(string name)
    {
        var vocab = Pick(2, 3, 5, 7, 11, 13, 31, 40);
        var context = Pick(1, 2, 3, 5, 7, 8, 12);
        var positions = Pick("none", "learned", "sinusoidal", "rope");
        var layers = new List<Layer>();

        // Width of the embedding: a multiple of some head count, so that a first stack is possible.
        var width = Pick(Sizes);
        if (positions == "rope" && width % 2 == 1)
        {
            width++;
        }

        var current = width;
        var beforeFlatten = rng.Next(0, 4);
        var hasStack = false;
        for (var i = 0; i < beforeFlatten; i++)
        {
            if (rng.Next(3) > 0)
            {
                var heads = Divisors(current).Where(h => positions != "rope" || (current / h) % 2 == 0).ToArray();
                if (heads.Length == 0)
                {
                    continue;
                }

                var activation = Pick(FfnActivations);
                var ffnChoice = rng.Next(3);
                var multiplier = Pick(1, 2, 3);
                var lever = levers ? Lever(positions == "rope") : null;
                layers.Add(new Stack(
                    Blocks: rng.Next(1, 3),
                    Repeat: rng.Next(4) == 0 ? rng.Next(2, 4) : 1,
                    Heads: heads[rng.Next(heads.Length)],
                    FfnHidden: ffnChoice == 0 ? Pick(Sizes) : 0,
                    FfnMultiplier: ffnChoice == 1 ? multiplier : 0,
                    Activation: activation,
                    Norm: Pick("layernorm", "rmsnorm", "none"),
                    NormBias: rng.Next(2) == 0,
                    PreNorm: rng.Next(2) == 0,
                    PackedQkv: rng.Next(2) == 0,
                    AttentionBias: rng.Next(2) == 0,
                    FfnBias: rng.Next(2) == 0) { Lever = lever, QkNorm = recent && lever is not null && (lever.Blocks + lever.BlockRepeat) % 3 != 1 });
                if (recent && lever is not null)
                {
                    var s = (Stack)layers[^1];
                    var headSize = lever.HeadDim > 0 ? lever.HeadDim : current / s.Heads;
                    layers[^1] = s with { Modern = DrawModern(s, positions == "rope", headSize) };
                }
                hasStack = true;
            }
            else
            {
                var units = Pick(Sizes);
                if (positions == "rope")
                {
                    units += units % 2; // keep a later stack's head dimension even possible
                }

                layers.Add(new DenseLayer(units, Pick(DenseActivations), rng.Next(2) == 0));
                current = units;
            }
        }

        if (positions == "rope" && !hasStack)
        {
            positions = "learned";
        }

        var flatten = rng.Next(3) == 0;
        if (flatten)
        {
            var window = rng.Next(2) == 0 ? 0 : rng.Next(1, context + 1);
            layers.Add(new FlattenLayer(window));
            current *= window == 0 ? context : window;
            for (var i = rng.Next(0, 3); i > 0; i--)
            {
                var units = Pick(Sizes);
                layers.Add(new DenseLayer(units, Pick(DenseActivations), rng.Next(2) == 0));
                current = units;
            }
        }

        var finalNorm = Pick("none", "layernorm", "rmsnorm");
        if (recent && levers && recentRng.Next(4) == 0)
        {
            finalNorm = "rmsnorm_free";
        }

        var head = current == width && rng.Next(3) == 0 ? "tied" : Pick("full", "bias", "rank");
        var rank = Pick(1, 2, 3, 5);
        var learnedRows = positions == "learned" && rng.Next(3) == 0 ? context + rng.Next(1, 4) : 0;
        var design = new Design(name, vocab, context, width, positions, learnedRows, layers, finalNorm, head, rank, rng.Next(2) == 0 ? "gpt2" : "torch");
        if (recent && levers && recentRng.Next(3) == 0)
        {
            design = design with { SoftCap = Pick(0.5, 3, 15, 30) };
        }

        if (recent && levers && recentRng.Next(3) == 0)
        {
            // Hashed bigram embeddings: a table of 2 … 97 rows, as wide as the model or narrower (then projected).
            design = design with { BigramBuckets = 2 + recentRng.Next(96), BigramDim = recentRng.Next(2) == 0 ? 0 : 1 + recentRng.Next(width) };
        }

        if (grouped && head != "tied" && design.SoftCap == 0 && groupedRng.Next(2) == 0)
        {
            // A grouped (two-level) head of 2 … 40 groups (at most the vocabulary), conditioned on the group or not.
            design = design with { Head = "grouped", Groups = 2 + groupedRng.Next(Math.Min(vocab, 40) - 1), Conditioned = groupedRng.Next(2) == 0 };
        }

        if (levers && rng.Next(3) == 0)
        {
            // Quantisation-aware training of some parts (a tied head takes the embedding's bits).
            int Bits() => rng.Next(2) == 0 ? 0 : Pick(2, 3, 4, 8);
            design = design with { Quant = new[] { Bits(), Bits(), Bits(), head == "tied" ? 0 : Bits(), Bits() } };
        }

        return rng.Next(2) == 0 ? (design.Yaml(), null) : (null, design.Attributes());
    }

    private T Pick<T>(params T[] values) => values[rng.Next(values.Length)];

    /// <summary>The compact-model options of one stack, from the second generator; every combination the validator accepts.</summary>
    private ModernOptions DrawModern(Stack s, bool rope, int headSize)
    {
        var r = recentRng;
        var activation = r.Next(3) == 0 ? (r.Next(2) == 0 ? "relu2" : "leaky_relu2") : null;
        var norm = r.Next(4) == 0 ? "rmsnorm_free" : null;
        var free = s.QkNorm && r.Next(2) == 0;
        var gain = r.Next(3) == 0 ? new[] { 0.5, 1, 1.5, 2.25 }[r.Next(4)] : 0;
        var ropeDims = rope && headSize >= 4 && r.Next(3) == 0 ? 2 * r.Next(1, headSize / 2) : 0;
        var unet = s.Layers >= 2 && s.Repeat == 1 && s.Lever!.BlockRepeat == 1 && r.Next(2) == 0;
        var normKind = norm ?? s.Norm;
        var depthScaled = s.PreNorm && normKind != "none" && r.Next(3) == 0;
        // Value residual: one pass over 2 or more blocks whose k/v widths agree (no per-block or interpolated heads).
        var values = s.Layers >= 2 && s.Repeat == 1 && s.Lever!.BlockRepeat == 1 && s.Lever.HeadsList is null && s.Lever.HeadsLast == 0 && r.Next(3) == 0;
        return new ModernOptions(activation, norm, free, gain, ropeDims, r.Next(3) == 0, r.Next(3) == 0, s.PreNorm && r.Next(4) == 0, unet) { DepthScaledNorms = depthScaled, ValueResidual = values };
    }

    /// <summary>The compact-model options of a stack (issue 27); null activation or norm: the stack's own.</summary>
    private sealed record ModernOptions(string? Activation, string? Norm, bool QkNormFree, double QueryGain, int RopeDims, bool BranchScales, bool ResidualMix, bool Parallel, bool UNetSkips)
    {
        public bool DepthScaledNorms { get; init; }

        public bool ValueResidual { get; init; }
    }

    /// <summary>The levers of one stack: key/value heads, a head size of its own, per-block or interpolated heads / FFN, sharing and LoRA.</summary>
    private StackLever Lever(bool rope)
    {
        var blocks = rng.Next(1, 4);
        var headDim = rng.Next(3) == 0 ? Pick(2, 4, 6, 8) + (rope ? 0 : Pick(0, 1)) : 0;
        int[]? headsList = null, kvList = null, ffnList = null;
        int headsLast = 0, kvLast = 0, ffnLast = 0;
        if (headDim > 0 && rng.Next(2) == 0)
        {
            // Layer-wise scaling needs a head size of its own (heads then need not divide the width).
            if (rng.Next(2) == 0)
            {
                headsList = Enumerable.Range(0, blocks).Select(_ => Pick(1, 2, 3, 4, 6)).ToArray();
                kvList = headsList.Select(h => rng.Next(2) == 0 ? h : 1).ToArray();
            }
            else
            {
                headsLast = Pick(1, 2, 4, 6, 8);
            }
        }

        if (rng.Next(3) == 0)
        {
            if (rng.Next(2) == 0)
            {
                ffnList = Enumerable.Range(0, blocks).Select(_ => Pick(Sizes)).ToArray();
            }
            else
            {
                ffnLast = Pick(Sizes);
            }
        }

        var kv = headsList is null && headsLast == 0 ? rng.Next(3) : 0; // 0: one per head, 1: multi-query, 2: the largest smaller divisor
        var blockRepeat = rng.Next(3) == 0 ? rng.Next(2, 4) : 1;
        return new StackLever(blocks, kv, headDim, headsList, kvList, headsLast, kvLast, ffnList, ffnLast, blockRepeat, 0);
    }

    private sealed record StackLever(int Blocks, int KvHeads, int HeadDim, int[]? HeadsList, int[]? KvList, int HeadsLast, int KvLast, int[]? FfnList, int FfnLast, int BlockRepeat, int LoraRank);

    private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(h => n % h == 0);

    private abstract record Layer;

    private sealed record Stack(int Blocks, int Repeat, int Heads, int FfnHidden, int FfnMultiplier, string Activation, string Norm, bool NormBias, bool PreNorm, bool PackedQkv, bool AttentionBias, bool FfnBias) : Layer
    {
        public StackLever? Lever { get; init; }

        public int Layers => Lever?.Blocks ?? Blocks;

        /// <summary>Key/value heads of the lever's choice: 1 (multi-query), or the largest divisor of the heads below them.</summary>
        private int Kv => Lever?.KvHeads == 1 ? 1 : Enumerable.Range(1, Heads).Where(k => Heads % k == 0 && (k < Heads || Heads == 1)).Max();

        public int Lora => Lever is { } l && (Repeat > 1 || l.BlockRepeat > 1) && (Heads + Layers) % 2 == 0 ? 1 + ((Heads + Repeat) % 3) : 0;

        /// <summary>QK-norm (only where the generator draws the recent settings).</summary>
        public bool QkNorm { get; init; }

        /// <summary>The compact-model options (only where the generator draws the recent settings).</summary>
        public ModernOptions? Modern { get; init; }

        /// <summary>The FFN activation as written (a drawn squared ReLU replaces the stack's).</summary>
        public string WrittenActivation => Modern?.Activation ?? Activation;

        /// <summary>The norm as written.</summary>
        public string WrittenNorm => Modern?.Norm ?? Norm;

        public string YamlExtras()
        {
            if (Lever is not { } l)
            {
                return string.Empty;
            }

            var sb = new StringBuilder();
            if (l.KvHeads > 0) sb.Append($", kv_heads: {Kv}");
            if (l.HeadDim > 0) sb.Append($", head_dim: {l.HeadDim}");
            if (l.HeadsLast > 0) sb.Append($", heads_last: {l.HeadsLast}");
            if (l.KvList is not null) sb.Append($", kv_heads: [{string.Join(", ", l.KvList)}]");
            if (l.FfnLast > 0 && l.FfnList is null) sb.Append(FfnMultiplier > 0 ? $", ffn_last: {1 + (l.FfnLast % 4)}x" : $", ffn_hidden_last: {l.FfnLast}");
            if (l.BlockRepeat > 1) sb.Append($", block_repeat: {l.BlockRepeat}");
            if (Lora > 0) sb.Append($", lora_rank: {Lora}");
            if (QkNorm) sb.Append(", qk_norm: true");
            if (Modern is { } m)
            {
                if (m.QkNormFree) sb.Append(", qk_norm_weight: false");
                if (m.QueryGain > 0) sb.Append($", query_gain: {Number(m.QueryGain)}");
                if (m.RopeDims > 0) sb.Append($", rope_dims: {m.RopeDims}");
                if (m.BranchScales) sb.Append(", branch_scales: true");
                if (m.ResidualMix) sb.Append(", residual_mix: true");
                if (m.Parallel) sb.Append(", parallel: true");
                if (m.UNetSkips) sb.Append(", unet_skips: true");
                if (m.DepthScaledNorms) sb.Append(", depth_scaled_norms: true");
                if (m.ValueResidual) sb.Append(", value_residual: true");
            }

            return sb.ToString();
        }

        public string AttributeExtras()
        {
            if (Lever is not { } l)
            {
                return string.Empty;
            }

            var sb = new StringBuilder();
            if (l.KvHeads > 0) sb.Append($", KvHeads = {Kv}");
            if (l.HeadDim > 0) sb.Append($", HeadDim = {l.HeadDim}");
            if (l.HeadsLast > 0) sb.Append($", HeadsLast = {l.HeadsLast}");
            if (l.HeadsList is not null) sb.Append($", HeadsPerBlock = new[] {{ {string.Join(", ", l.HeadsList)} }}");
            if (l.KvList is not null) sb.Append($", KvHeadsPerBlock = new[] {{ {string.Join(", ", l.KvList)} }}");
            if (l.FfnList is not null) sb.Append($", FfnHiddenPerBlock = new[] {{ {string.Join(", ", l.FfnList)} }}");
            if (l.FfnLast > 0 && l.FfnList is null) sb.Append(FfnMultiplier > 0 ? $", FfnMultiplierLast = {1 + (l.FfnLast % 4)}" : $", FfnHiddenLast = {l.FfnLast}");
            if (l.BlockRepeat > 1) sb.Append($", BlockRepeat = {l.BlockRepeat}");
            if (Lora > 0) sb.Append($", LoraRank = {Lora}");
            if (QkNorm) sb.Append(", QkNorm = true");
            if (Modern is { } m)
            {
                if (m.QkNormFree) sb.Append(", QkNormWeight = false");
                if (m.QueryGain > 0) sb.Append($", QueryGain = {Number(m.QueryGain)}");
                if (m.RopeDims > 0) sb.Append($", RopeDims = {m.RopeDims}");
                if (m.BranchScales) sb.Append(", BranchScales = true");
                if (m.ResidualMix) sb.Append(", ResidualMix = true");
                if (m.Parallel) sb.Append(", Parallel = true");
                if (m.UNetSkips) sb.Append(", UNetSkips = true");
                if (m.DepthScaledNorms) sb.Append(", DepthScaledNorms = true");
                if (m.ValueResidual) sb.Append(", ValueResidual = true");
            }

            return sb.ToString();
        }
    }

    private sealed record DenseLayer(int Units, string Activation, bool Bias) : Layer;

    private sealed record FlattenLayer(int Window) : Layer;

    private sealed record Design(string Name, int Vocab, int Context, int Width, string Positions, int LearnedRows, List<Layer> Layers, string FinalNorm, string Head, int Rank, string Init)
    {
        /// <summary>Bits of attention, mlp, dense, head, embedding (null: no quantisation).</summary>
        public int[]? Quant { get; init; }

        /// <summary>The head's logit soft-cap (0: none).</summary>
        public double SoftCap { get; init; }

        public int Groups { get; init; }

        public bool Conditioned { get; init; }

        /// <summary>Rows of the hashed bigram table (0: none) and their width (0: the model's).</summary>
        public int BigramBuckets { get; init; }

        public int BigramDim { get; init; }

        private string YamlEmbedding => BigramBuckets == 0 ? $"{Width}" : $"{{ dim: {Width}, bigram_buckets: {BigramBuckets}{(BigramDim > 0 ? $", bigram_dim: {BigramDim}" : string.Empty)} }}";

        private static string B(bool b) => b ? "true" : "false";

        private static string Pascal(string name) => name switch
        {
            "relu" => "Relu", "gelu" => "Gelu", "silu" => "Silu", "swiglu" => "SwiGlu", "tanh" => "Tanh", "identity" => "Identity", "relu2" => "ReluSquared", "leaky_relu2" => "LeakyReluSquared",
            "layernorm" => "LayerNorm", "rmsnorm" => "RmsNorm", "rmsnorm_free" => "RmsNormFree", "none" => "None",
            "learned" => "Learned", "sinusoidal" => "Sinusoidal", "rope" => "Rope",
            _ => throw new ArgumentException(name),
        };

        public string Yaml()
        {
            var sb = new StringBuilder();
            sb.Append($"name: {Name}\nvocab: {Vocab}\ncontext: {Context}\nembedding: {YamlEmbedding}\ninit: {Init}\n");
            sb.Append(LearnedRows > 0 ? $"positions: {{ kind: learned, length: {LearnedRows} }}\n" : $"positions: {Positions}\n");
            sb.Append("layers:\n");
            foreach (var layer in Layers)
            {
                sb.Append(layer switch
                {
                    Stack s => $"  - transformer: {{ layers: {s.Layers}, repeat: {s.Repeat}, heads: {(s.Lever?.HeadsList is { } hl ? $"[{string.Join(", ", hl)}]" : s.Heads.ToString(CultureInfo.InvariantCulture))}{(s.Lever?.FfnList is { } fl ? $", ffn: [{string.Join(", ", fl)}]" : s.FfnHidden > 0 ? $", ffn: {s.FfnHidden}" : s.FfnMultiplier > 0 ? $", ffn: {s.FfnMultiplier}x" : string.Empty)}, activation: {s.WrittenActivation}, norm: {s.WrittenNorm}, norm_bias: {B(s.NormBias)}, pre_norm: {B(s.PreNorm)}, packed_qkv: {B(s.PackedQkv)}, attention_bias: {B(s.AttentionBias)}, ffn_bias: {B(s.FfnBias)}{s.YamlExtras()} }}\n",
                    DenseLayer d => $"  - dense: {{ units: {d.Units}, activation: {d.Activation}, bias: {B(d.Bias)} }}\n",
                    FlattenLayer f => f.Window == 0 ? "  - flatten\n" : $"  - flatten: {f.Window}\n",
                    _ => string.Empty,
                });
            }

            sb.Append($"final_norm: {FinalNorm}\n");
            var cap = SoftCap > 0 ? $", softcap: {Number(SoftCap)}" : string.Empty;
            sb.Append(Head switch
            {
                "tied" when cap.Length > 0 => $"head: {{ tied: true{cap} }}\n",
                "bias" when cap.Length > 0 => $"head: {{ bias: true{cap} }}\n",
                "full" when cap.Length > 0 => $"head: {{ tied: false{cap} }}\n",
                "tied" => "head: tied\n",
                "bias" => "head: bias\n",
                "rank" => $"head: {{ rank: {Rank}{cap} }}\n",
                "grouped" => $"head: {{ groups: {Groups}{(Conditioned ? ", conditioned: true" : string.Empty)} }}\n",
                _ => "head: untied\n",
            });
            if (Quant is { } q)
            {
                sb.Append($"quantization: {{ attention: {q[0]}, mlp: {q[1]}, dense: {q[2]}, head: {q[3]}, embedding: {q[4]} }}\n");
            }

            var text = sb.ToString();
            return Layers.Count == 0 ? text.Replace("layers:\n", string.Empty) : text;
        }

        public string Attributes()
        {
            var sb = new StringBuilder();
            sb.Append($"[Model(Vocab = {Vocab}, Context = {Context}, Init = InitScheme.{(Init == "gpt2" ? "Gpt2" : "TorchDefault")})]\n");
            sb.Append(BigramBuckets == 0 ? $"[TokenEmbedding(Dim = {Width})]\n" : $"[TokenEmbedding(Dim = {Width}, BigramBuckets = {BigramBuckets}{(BigramDim > 0 ? $", BigramDim = {BigramDim}" : string.Empty)})]\n");
            if (Positions != "none")
            {
                sb.Append($"[Positions(PositionKind.{Pascal(Positions)}{(LearnedRows > 0 ? $", Length = {LearnedRows}" : string.Empty)})]\n");
            }

            foreach (var layer in Layers)
            {
                sb.Append(layer switch
                {
                    Stack s => $"[TransformerBlocks(Layers = {s.Layers}, Repeat = {s.Repeat}{(s.Lever?.HeadsList is null ? $", Heads = {s.Heads}" : string.Empty)}{(s.Lever?.FfnList is not null ? string.Empty : s.FfnHidden > 0 ? $", FfnHidden = {s.FfnHidden}" : s.FfnMultiplier > 0 ? $", FfnMultiplier = {s.FfnMultiplier}" : string.Empty)}, Activation = Act.{Pascal(s.WrittenActivation)}, Norm = NormKind.{Pascal(s.WrittenNorm)}, NormBias = {B(s.NormBias)}, PreNorm = {B(s.PreNorm)}, PackedQkv = {B(s.PackedQkv)}, AttentionBias = {B(s.AttentionBias)}, FfnBias = {B(s.FfnBias)}{s.AttributeExtras()})]\n",
                    DenseLayer d => $"[Dense({d.Units}, Activation = Act.{Pascal(d.Activation)}, Bias = {B(d.Bias)})]\n",
                    FlattenLayer f => f.Window == 0 ? "[ContextFlatten]\n" : $"[ContextFlatten(Window = {f.Window})]\n",
                    _ => string.Empty,
                });
            }

            if (FinalNorm != "none")
            {
                sb.Append($"[FinalNorm(NormKind.{Pascal(FinalNorm)})]\n");
            }

            var cap = SoftCap > 0 ? $"SoftCap = {Number(SoftCap)}" : string.Empty;
            sb.Append(Head switch
            {
                "tied" => $"[LMHead(TiedToEmbedding = true{(cap.Length > 0 ? ", " + cap : string.Empty)})]\n",
                "bias" => $"[LMHead(Bias = true{(cap.Length > 0 ? ", " + cap : string.Empty)})]\n",
                "rank" => $"[LMHead(Rank = {Rank}{(cap.Length > 0 ? ", " + cap : string.Empty)})]\n",
                "grouped" => $"[LMHead(Groups = {Groups}{(Conditioned ? ", Conditioned = true" : string.Empty)})]\n",
                _ => cap.Length > 0 ? $"[LMHead({cap})]\n" : string.Empty,
            });
            if (Quant is { } q)
            {
                sb.Append($"[Quantization(Attention = {q[0]}, Mlp = {q[1]}, Dense = {q[2]}, Head = {q[3]}, Embedding = {q[4]})]\n");
            }

            sb.Append($"public partial class {Name} {{ }}\n");
            return sb.ToString();
        }
    }

    /// <summary>Invariant formatting for numbers in specs.</summary>
    public static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
