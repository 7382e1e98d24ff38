using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Onnx;
using SlmGen.IO;
using SlmGen.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Onnx;

/// <summary>
/// The ONNX form of a generated model, written from its resolved plan in C# (OnnxSharp's protobuf types): the
/// full-sequence forward, <c>input_ids</c> (int64 [batch, sequence]) → <c>logits</c> (float [batch, sequence, vocabulary]),
/// opset 18, every weight an fp32 initializer (a quantisation-aware model's weights as it computes with them: on their
/// grid). Every plan step the generator makes is covered (docs/interop.md lists them); <see cref="Unsupported"/> names a
/// step kind added later until it is.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the graphs use.</summary>
    public const int Opset = 18;

    /// <summary>Why the model cannot be exported yet, or null when it can.</summary>
    public static string? Unsupported(SlmModel model)
    {
        foreach (var step in model.Plan)
        {
            // Every plan step the generator makes is covered; a step kind added later must be named here until it is.
            string? reason = step switch
            {
                EmbeddingStep or PositionsStep or RopeStep or BigramStep or EmbeddingDropoutStep or FlattenStep or DenseStep or StackStep or FinalNormStep or HeadStep => null,
                _ => $"a {step.GetType().Name}",
            };
            if (reason is not null)
            {
                return $"{model.GetName()} has {reason}, which the ONNX export does not cover yet";
            }
        }

        return null;
    }

    /// <summary>Writes the model's ONNX file (atomically).</summary>
    /// <exception cref="NotSupportedException">A lever the export does not cover (<see cref="Unsupported"/>).</exception>
    public static void Write(SlmModel model, string path) => AtomicFile.Write(path, s => s.Write(Build(model)));

    /// <summary>
    /// The model's ONNX bytes: the full-sequence forward, or with <paramref name="decode"/> the decoding step — inputs
    /// <c>input_ids</c> (the new tokens), <c>past_length</c> (int64 [1]: positions already cached), <c>past_key_N</c> and
    /// <c>past_value_N</c> for each attention application N in forward order ([batch, k/v heads, past, head size], after
    /// RoPE and before the repeat for grouped heads, as SlmGen's KvCache keeps them) and, with hashed bigrams,
    /// <c>previous_token</c> ([batch, 1]: the token before the first new one; ignored at past_length 0); outputs
    /// <c>logits</c> and <c>present_key_N</c> / <c>present_value_N</c> (past and new).
    /// </summary>
    public static byte[] Build(SlmModel model, bool decode = false) => Build(model, decode, null);

    /// <summary>
    /// The ONNX form of the model's artifact (docs/artifact.md): its 4- and 8-bit matrices as ONNX Runtime's
    /// <c>MatMulNBits</c> (codes + 8 or + 128 packed little-end first, one fp32 scale per block of 16, 32, … columns: the group,
    /// or the row's scale repeated), every other weight at its dequantized value — the model exactly as the artifact
    /// restores it. <paramref name="options"/> carries GPTQ's statistics where the plan asks for them.
    /// </summary>
    public static byte[] BuildQuantized(SlmModel model, bool decode = false, Artifacts.ArtifactOptions? options = null)
    {
        var quantized = Artifacts.ArtifactFile.QuantizedWeights(model, options);
        try
        {
            return Build(model, decode, quantized);
        }
        finally
        {
            foreach (var (matrix, _) in quantized.Values)
            {
                matrix.Dispose();
            }
        }
    }

    /// <summary>
    /// The matrices a <c>MatMulNBits</c> node stores (the rest stay fp32): 4 and 8 bits on the symmetric grid, groups of a
    /// power of two from 16 (or a scale per row). A stretched grid's levels (q + ½)·s have no integer zero point, so its
    /// matrices are stored dequantised (fp32) — the same weights, not packed.
    /// </summary>
    public static bool UsesMatMulNBits(int bits, int group, long columns, QuantGrid grid = QuantGrid.Symmetric) =>
        grid == QuantGrid.Symmetric && bits is 4 or 8 && (group == 0 ? columns >= 16 : group >= 16 && (group & (group - 1)) == 0);

    private static byte[] Build(SlmModel model, bool decode, Dictionary<string, (Artifacts.QuantizedMatrix Matrix, int Bits)>? quantized)
    {
        if (Unsupported(model) is { } reason)
        {
            throw new NotSupportedException(reason);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weights = Effective(model);
        if (quantized is not null)
        {
            // The artifact's weights (the model itself is left as it is): codes × stored scales, the others at their storage type.
            var others = Artifacts.WeightQuantizer.ScalarTypeOf(model.ArtifactPlan.Others);
            weights = model.named_parameters().ToDictionary(
                p => p.name,
                p => quantized.TryGetValue(p.name, out var q)
                    ? FakeQuant.Dequantize(q.Matrix.Codes, q.Matrix.Scales, model.ArtifactPlan.Group, model.ArtifactPlan.Grid)
                    : p.parameter.detach().cpu().to(others).to(ScalarType.Float32),
                StringComparer.Ordinal);
        }

        var g = new GraphBuilder(weights) { Quantized = quantized, Group = model.ArtifactPlan.Group, Grid = model.ArtifactPlan.Grid };
        if (decode && !model.PredictsEveryPosition)
        {
            throw new NotSupportedException($"{model.GetName()} reads whole windows (a flatten): it has no incremental decoding step to export.");
        }

        var ids = g.Input("input_ids", TensorProto.Types.DataType.Int64, "batch", "sequence");
        var sequence = g.Node("Gather", new[] { g.Node("Shape", ids), g.Ints("one", 1) }, ("axis", 0L)); // [1]: T
        var start = decode ? g.Input("past_length", TensorProto.Types.DataType.Int64, 1) : g.Ints("zero1", 0);
        var w = new Span(start, decode ? g.Node("Add", start, sequence) : sequence, sequence, decode);
        string x = string.Empty;
        var flattened = false;
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        foreach (var step in model.Plan)
        {
            switch (step)
            {
                case EmbeddingStep e:
                    x = g.Node("Gather", g.Weight(e.Field + ".weight"), ids);
                    break;
                case PositionsStep { Kind: PositionKind.Learned } p:
                {
                    var range = g.Node("Range", g.Node("Squeeze", w.Start, g.Ints("axis0", 0)), g.Node("Squeeze", w.End, g.Ints("axis0", 0)), g.Scalar("step", 1));
                    x = g.Node("Add", x, g.Node("Gather", g.Weight(p.Field + ".weight"), range));
                    break;
                }

                case PositionsStep { Kind: PositionKind.Sinusoidal } p:
                    x = g.Node("Add", x, g.Node("Slice", g.Constant(p.Field + ".table", ((SinusoidalPositions)modules[p.Field]).Table), w.Start, w.End, g.Ints("axis0", 0)));
                    break;
                case BigramStep b:
                    x = g.Node("Add", x, Bigram(g, b, ids, w));
                    break;
                case FlattenStep f:
                {
                    // The last W positions side by side: (B, T, d) → (B, W·d).
                    var first = g.Node("Sub", sequence, g.Ints($"window_{f.Window}", f.Window));
                    x = g.Node("Reshape", g.Node("Slice", x, first, sequence, g.Ints("axis1", 1)), g.Ints($"flat_{f.OutWidth}", 0, f.OutWidth));
                    flattened = true;
                    break;
                }

                case DenseStep d:
                    x = Activation(g, d.Activation, Linear(g, d.Field + ".fc", x, d.Bias));
                    break;
                case StackStep s:
                    x = Stack(g, s, x, w, modules);
                    break;
                case FinalNormStep n:
                    x = Norm(g, n.Kind, n.Field, x, n.Width);
                    break;
                case HeadStep h:
                    x = h.Kind switch
                    {
                        HeadKind.Grouped => Grouped(g, (GroupedHead)modules[h.Field], h.Field, x, flattened),
                        HeadKind.Tied => g.MatMulShared(x, "wte.weight"),
                        HeadKind.Factorised => Linear(g, h.Field + ".out", Linear(g, h.Field + ".down", x, false), h.Bias),
                        _ => Linear(g, h.Field, x, h.Bias),
                    };
                    if (h.SoftCap > 0)
                    {
                        x = g.Node("Mul", g.Node("Tanh", g.Node("Div", x, g.Float("softcap", (float)h.SoftCap))), g.Float("softcap", (float)h.SoftCap));
                    }

                    break;
            }
        }

        if (flattened)
        {
            g.Output(g.Node("Identity", x), "logits", "batch", model.Vocab);
        }
        else
        {
            g.Output(g.Node("Identity", x), "logits", "batch", "sequence", model.Vocab);
        }
        var proto = new ModelProto { IrVersion = 8, ProducerName = "SlmGen", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0", Graph = g.Graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        if (g.UsedContribOps)
        {
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        }
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "slmgen.architecture", Value = model.Architecture });
        return proto.ToByteArray();
    }

    /// <summary>The weights the model computes with, by parameter name: fake-quantised where it trains quantisation-aware.</summary>
    /// <summary>−∞ where <paramref name="mask"/> is true, 0 elsewhere (float32).</summary>
    private static Tensor Masked(Tensor mask)
    {
        using var minus = tensor(float.NegativeInfinity);
        using var zero = tensor(0f);
        return where(mask, minus, zero);
    }

    private static Dictionary<string, Tensor> Effective(SlmModel model)
    {
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).cpu(), StringComparer.Ordinal);
        if (!model.FakeQuantEnabled)
        {
            return weights;
        }

        foreach (var (name, module) in model.named_modules())
        {
            if (module is QuantLinear q && q.Enabled)
            {
                var key = name + ".weight";
                weights[key] = FakeQuant.Weight(weights[key], q.Bits, q.Group, q.Grid);
            }
        }

        if (model.EmbeddingWeightBits > 0)
        {
            weights["wte.weight"] = FakeQuant.Weight(weights["wte.weight"], model.EmbeddingWeightBits, model.ArtifactPlan.Group, model.ArtifactPlan.Grid);
        }

        return weights;
    }

    private static string Linear(GraphBuilder g, string prefix, string x, bool bias, string? adapter = null)
    {
        var y = g.MatMul(x, prefix + ".weight");
        y = bias ? g.Node("Add", y, g.Weight(prefix + ".bias")) : y;
        // A shared block's LoRA adapter of this application: y + B(A(x)).
        return adapter is null ? y : g.Node("Add", y, g.Node("MatMul", g.Node("MatMul", x, g.Transposed(adapter + ".A.weight")), g.Transposed(adapter + ".B.weight")));
    }

    private static string Activation(GraphBuilder g, Act act, string x) => act switch
    {
        Act.Relu => g.Node("Relu", x),
        Act.Gelu => g.Node("Mul", g.Node("Mul", x, g.Float("half", 0.5f)), g.Node("Add", g.Node("Erf", g.Node("Div", x, g.Float("sqrt2", (float)Math.Sqrt(2)))), g.Float("one_f", 1f))),
        Act.Silu => Silu(g, x),
        Act.Tanh => g.Node("Tanh", x),
        Act.ReluSquared => Square(g, g.Node("Relu", x)),
        Act.LeakyReluSquared => Square(g, g.Node("LeakyRelu", new[] { x }, ("alpha", 0.5f))),
        _ => x,
    };

    /// <summary>Hashed bigrams: bucket ((36313·x_t) XOR (27191·x_(t−1))) mod (B − 1), the first position B − 1; the rows, projected when narrower.</summary>
    private static string Bigram(GraphBuilder g, BigramStep b, string ids, Span w)
    {
        // Hash every position over (previous token, ids); the first position takes bucket B − 1 unless tokens are cached.
        var previous = w.Decode ? g.Input("previous_token", TensorProto.Types.DataType.Int64, "batch", 1) : g.Node("Slice", ids, g.Ints("zero1", 0), g.Ints("one", 1), g.Ints("axis1", 1));
        var sequence = w.Length;
        var before = g.Node("Slice", g.Node("Concat", new[] { previous, ids }, ("axis", 1L)), g.Ints("zero1", 0), sequence, g.Ints("axis1", 1));
        var hashed = g.Node("Mod", g.Node("BitwiseXor", g.Node("Mul", ids, g.Scalar("bigram_current", BigramHash.CurrentMultiplier)), g.Node("Mul", before, g.Scalar("bigram_previous", BigramHash.PreviousMultiplier))), g.Scalar($"bigram_modulus_{b.Buckets}", b.Buckets - 1));
        var mixed = g.Node("Slice", hashed, g.Ints("one", 1), sequence, g.Ints("axis1", 1));
        var firstHashed = g.Node("Slice", hashed, g.Ints("zero1", 0), g.Ints("one", 1), g.Ints("axis1", 1));
        var cached = g.Node("Greater", w.Start, g.Ints("zero1", 0));
        var first = g.Node("Where", cached, firstHashed, g.Node("Add", g.Node("Mul", firstHashed, g.Scalar("zero", 0)), g.Scalar($"bigram_first_{b.Buckets}", b.Buckets - 1)));
        var buckets = g.Node("Concat", new[] { first, mixed }, ("axis", 1L));
        var rows = g.Node("Gather", g.Weight(b.Field + ".embed.weight"), buckets);
        return b.Projects ? g.Node("MatMul", rows, g.Transposed(b.Field + ".proj.weight")) : rows;
    }

    /// <summary>The grouped head's log-probabilities over the vocabulary: log p(group) + log p(position | group), −∞ for ids that are not real.</summary>
    private static string Grouped(GraphBuilder g, GroupedHead head, string field, string x, bool flattened)
    {
        long groups = head.Groups, size = head.GroupSize, real = head.RealVocab;
        var firstEmpty = (real + size - 1) / size;
        var partial = real % size == 0 ? -1 : real / size;
        var groupMask = g.Constant($"{field}.group_mask", Masked(HeldScalars.Arange(groups).IsAtLeast(firstEmpty)));
        var groupLog = g.Node("LogSoftmax", new[] { g.Node("Add", g.Node("MatMul", x, g.Transposed(field + ".group.weight")), groupMask) }, ("axis", -1L));
        // (…, 1, S) shared by every group; conditioned, (…, G, S) from each group's gated features x ⊙ (1 + e_g).
        var positions = head.Conditioned
            ? g.Node("MatMul", g.Node("Mul", g.Node("Unsqueeze", x, g.Ints("axis_m2", -2)), g.Node("Add", g.Weight(field + "." + GroupedHead.GateName), g.Float("one", 1f))), g.Transposed(field + ".token.weight"))
            : g.Node("Unsqueeze", g.Node("MatMul", x, g.Transposed(field + ".token.weight")), g.Ints("axis_m2", -2));
        var positionLog = g.Node("LogSoftmax", new[] { positions }, ("axis", -1L));
        if (partial >= 0)
        {
            var partialMask = g.Constant($"{field}.partial_mask", Masked(HeldScalars.Arange(size).IsAtLeast(real - (partial * size))));
            var partialLog = g.Node("LogSoftmax", new[] { g.Node("Add", positions, partialMask) }, ("axis", -1L));
            var isPartial = g.Bools($"{field}.partial_row", Enumerable.Range(0, (int)groups).Select(i => i == partial).ToArray(), groups, 1);
            positionLog = g.Node("Where", isPartial, partialLog, positionLog);
        }

        var all = g.Node("Add", g.Node("Unsqueeze", groupLog, g.Ints("axis_m1", -1)), positionLog);
        var flat = g.Node("Reshape", all, flattened ? g.Ints($"grouped_flat2_{groups * size}", 0, groups * size) : g.Ints($"grouped_flat3_{groups * size}", 0, 0, groups * size));
        return groups * size == head.Vocab ? flat : g.Node("Slice", flat, g.Ints("zero1", 0), g.Ints($"vocab_{head.Vocab}", head.Vocab), g.Ints("axis_last1", -1));
    }

    /// <summary>A norm over the last dimension: LayerNorm (eps 1e-5, TorchSharp's), RMSNorm x / √(mean(x²) + 1e-6) · w, or none.</summary>
    private static string Norm(GraphBuilder g, NormKind kind, string prefix, string x, long width)
    {
        switch (kind)
        {
            case NormKind.LayerNorm:
            {
                var bias = g.Has(prefix + ".bias") ? g.Weight(prefix + ".bias") : g.Constant(prefix + ".zero_bias", zeros(width));
                return g.Node("LayerNormalization", new[] { x, g.Weight(prefix + ".weight"), bias }, ("axis", -1L), ("epsilon", 1e-5f));
            }

            case NormKind.RmsNorm or NormKind.RmsNormFree:
            {
                var meanSquare = g.Node("ReduceMean", new[] { g.Node("Mul", x, x), g.Ints("axes_last", -1) }, ("keepdims", 1L));
                var normed = g.Node("Div", x, g.Node("Sqrt", g.Node("Add", meanSquare, g.Float("rms_eps", 1e-6f))));
                return kind == NormKind.RmsNorm ? g.Node("Mul", normed, g.Weight(prefix + ".weight")) : normed;
            }

            default:
                return x;
        }
    }

    private static string Stack(GraphBuilder g, StackStep s, string x, Span w, Dictionary<string, nn.Module> modules)
    {
        var sharing = s.Block.Sharing;
        var state = new StackState(x);
        var skips = new Stack<string>();
        for (var pass = 0; pass < sharing.Repeat; pass++)
        {
            for (var i = 0; i < s.Blocks; i++)
            {
                if (i >= s.Skips && i < 2 * s.Skips)
                {
                    // U-Net: block k gets block k − 1's output through its per-channel weight, and so on (last in, first out).
                    var weight = g.Constant($"{s.SkipWeightsField}.{i - s.Skips}", g.Tensor(s.SkipWeightsField)[i - s.Skips]);
                    x = g.Node("Add", x, g.Node("Mul", weight, skips.Pop()));
                }

                for (var again = 0; again < sharing.BlockRepeat; again++)
                {
                    // The application's adapters, numbered as the generated forward numbers them.
                    var application = sharing.Repeat > 1 && sharing.BlockRepeat > 1 ? (pass * sharing.BlockRepeat) + again : sharing.Repeat > 1 ? pass : again;
                    var block = s.BlockAt(i);
                    x = Block(g, block, $"{s.Field}.{i}", x, w, (TransformerBlock)modules[$"{s.Field}.{i}"], state, Lora.For(block, $"{s.Field}.{i}", application));
                }

                if (i < s.Skips)
                {
                    skips.Push(x);
                }
            }
        }

        return x;
    }

    /// <summary>The positions a pass covers: Start (int64 [1]: cached positions, 0 for the full forward) to End, Length new ones.</summary>
    private sealed record Span(string Start, string End, string Length, bool Decode);

    /// <summary>What the blocks of one stack share within a pass: its input (residual mixing) and block 0's values (value residual).</summary>
    private sealed class StackState
    {
        public StackState(string input) => Input = input;

        public string Input { get; }

        public string? FirstValues { get; set; }
    }

    private static string Block(GraphBuilder g, BlockConfig b, string p, string x, Span w, TransformerBlock module, StackState state, Lora? lora)
    {
        string Scaled(string branch, string scale) => b.BranchScales ? g.Node("Mul", g.Weight($"{p}.{scale}"), branch) : branch;
        string PreNorm(string name, string input)
        {
            var normed = Norm(g, b.Norm.Kind, $"{p}.{name}", input, b.Width);
            return b.DepthScaledNorms ? g.Node("Mul", normed, g.Float($"{p}.norm_scale", (float)b.NormOutputScale)) : normed;
        }

        if (b.ResidualMix)
        {
            var mix = g.Tensor($"{p}.resid_mix");
            x = g.Node("Add", g.Node("Mul", g.Constant($"{p}.resid_mix.0", mix[0]), x), g.Node("Mul", g.Constant($"{p}.resid_mix.1", mix[1]), state.Input));
        }

        if (b.Parallel)
        {
            var attention = Scaled(Attention(g, b, p, PreNorm("ln_1", x), w, module, state, lora), "attn_scale");
            var mlp = Scaled(FeedForward(g, b, p, PreNorm("ln_2", x), lora), "mlp_scale");
            return g.Node("Add", g.Node("Add", x, attention), mlp);
        }

        if (b.Norm.PreNorm)
        {
            x = g.Node("Add", x, Scaled(Attention(g, b, p, PreNorm("ln_1", x), w, module, state, lora), "attn_scale"));
            return g.Node("Add", x, Scaled(FeedForward(g, b, p, PreNorm("ln_2", x), lora), "mlp_scale"));
        }

        x = Norm(g, b.Norm.Kind, $"{p}.ln_1", g.Node("Add", x, Scaled(Attention(g, b, p, x, w, module, state, lora), "attn_scale")), b.Width);
        return Norm(g, b.Norm.Kind, $"{p}.ln_2", g.Node("Add", x, Scaled(FeedForward(g, b, p, x, lora), "mlp_scale")), b.Width);
    }

    private static string FeedForward(GraphBuilder g, BlockConfig b, string p, string x, Lora? lora)
    {
        var f = b.FeedForward;
        var fc = Linear(g, $"{p}.mlp.fc", x, f.Bias, lora?.Of("mlp_fc"));
        var h = f.Activation == Act.SwiGlu ? g.Node("Mul", Silu(g, Linear(g, $"{p}.mlp.gate", x, f.Bias, lora?.Of("mlp_gate"))), fc) : Activation(g, f.Activation, fc);
        return Linear(g, $"{p}.mlp.proj", h, f.Bias, lora?.Of("mlp_proj"));
    }

    /// <summary>One application's LoRA set of a shared block: adapter names by layer, in the block's order.</summary>
    private sealed record Lora(string Prefix, string[] Layers)
    {
        public string? Of(string layer) => Array.IndexOf(Layers, layer) is var i and >= 0 ? $"{Prefix}.adapters.{i}" : null;

        public static Lora? For(BlockConfig b, string p, int application)
        {
            if (b.Sharing.LoraRank <= 0)
            {
                return null;
            }

            var layers = (b.Attention.PackedQkv ? new[] { "attn_qkv" } : new[] { "attn_q", "attn_k", "attn_v" })
                .Concat(new[] { "attn_proj", "mlp_fc" }).Concat(b.FeedForward.Activation == Act.SwiGlu ? new[] { "mlp_gate" } : Array.Empty<string>()).Concat(new[] { "mlp_proj" }).ToArray();
            return new Lora($"{p}.lora.{application}", layers);
        }
    }

    private static string Silu(GraphBuilder g, string x) => g.Node("Mul", x, g.Node("Sigmoid", x));

    private static string Square(GraphBuilder g, string x) => g.Node("Mul", x, x);

    /// <summary>Causal self-attention as SlmGen computes it: q, k, v (B, heads, T, hd); QK-norm; RoPE; query gains; k/v repeated for grouped heads; softmax(q·kᵀ/√hd + causal mask)·v; the output projection.</summary>
    private static string Attention(GraphBuilder g, BlockConfig b, string p, string x, Span w, TransformerBlock module, StackState state, Lora? lora)
    {
        var a = b.Attention;
        string Heads(string t, long heads) => g.Node("Transpose", new[] { g.Node("Reshape", t, g.Ints($"shape_{heads}_{a.HeadDim}", 0, 0, heads, a.HeadDim)) }, ("perm", new long[] { 0, 2, 1, 3 }));
        string q, k, v;
        if (a.PackedQkv)
        {
            var qkv = Linear(g, $"{p}.attn.qkv", x, a.Bias, lora?.Of("attn_qkv"));
            var parts = g.Nodes("Split", new[] { qkv, g.Ints($"split_{a.InnerWidth}_{a.KvWidth}", a.InnerWidth, a.KvWidth, a.KvWidth) }, 3, ("axis", -1L));
            (q, k, v) = (Heads(parts[0], a.Heads), Heads(parts[1], a.KvHeads), Heads(parts[2], a.KvHeads));
        }
        else
        {
            q = Heads(Linear(g, $"{p}.attn.q_proj", x, a.Bias, lora?.Of("attn_q")), a.Heads);
            k = Heads(Linear(g, $"{p}.attn.k_proj", x, a.Bias, lora?.Of("attn_k")), a.KvHeads);
            v = Heads(Linear(g, $"{p}.attn.v_proj", x, a.Bias, lora?.Of("attn_v")), a.KvHeads);
        }

        if (a.ValueResidual)
        {
            // Block 0 records its values; a later block mixes them in: v + λ·(v₁ − v), before the repeat for grouped heads.
            if (!b.MixesValues)
            {
                state.FirstValues = v;
            }
            else
            {
                v = g.Node("Add", v, g.Node("Mul", g.Weight($"{p}.attn.value_lambda"), g.Node("Sub", state.FirstValues!, v)));
            }
        }

        if (a.QkNorm)
        {
            q = Norm(g, a.QkNormFree ? NormKind.RmsNormFree : NormKind.RmsNorm, $"{p}.attn.q_norm", q, a.HeadDim);
            k = Norm(g, a.QkNormFree ? NormKind.RmsNormFree : NormKind.RmsNorm, $"{p}.attn.k_norm", k, a.HeadDim);
        }

        if (module.Attention.Rope is { } rope)
        {
            q = Rotate(g, q, w, rope, a.HeadDim);
            k = Rotate(g, k, w, rope, a.HeadDim);
        }

        if (a.QueryGain > 0)
        {
            q = g.Node("Mul", q, g.Node("Reshape", g.Weight($"{p}.attn.q_gain"), g.Ints($"gain_shape_{a.Heads}", 1, a.Heads, 1, 1)));
        }

        if (w.Decode)
        {
            // This application's cache slot: the past keys and values, then the new ones; both go out as the present.
            var slot = g.NextCacheSlot();
            k = g.Node("Concat", new[] { g.Input($"past_key_{slot}", TensorProto.Types.DataType.Float, "batch", a.KvHeads, "past", a.HeadDim), k }, ("axis", 2L));
            v = g.Node("Concat", new[] { g.Input($"past_value_{slot}", TensorProto.Types.DataType.Float, "batch", a.KvHeads, "past", a.HeadDim), v }, ("axis", 2L));
            g.Output(g.Node("Identity", k), $"present_key_{slot}", "batch", a.KvHeads, "total", a.HeadDim);
            g.Output(g.Node("Identity", v), $"present_value_{slot}", "batch", a.KvHeads, "total", a.HeadDim);
        }

        if (a.KvHeads != a.Heads)
        {
            // repeat_interleave over heads: (B, kv, T, hd) → (B, kv, group, T, hd) → (B, heads, T, hd).
            var group = a.Heads / a.KvHeads;
            string Repeat(string t) => g.Node("Reshape", g.Node("Expand", g.Node("Unsqueeze", t, g.Ints("axis2", 2)), g.Ints($"expand_{group}", 1, 1, group, 1, 1)), g.Ints($"heads_shape_{a.Heads}_{a.HeadDim}", 0, a.Heads, -1, a.HeadDim));
            (k, v) = (Repeat(k), Repeat(v));
        }

        var scores = g.Node("Div", g.Node("MatMul", q, g.Node("Transpose", new[] { k }, ("perm", new long[] { 0, 1, 3, 2 }))), g.Float($"sqrt_{a.HeadDim}", (float)Math.Sqrt(a.HeadDim)));
        var mask = g.Node("Slice", g.Constant($"causal_mask_{a.Context}", triu(Masked(ones(a.Context, a.Context, ScalarType.Bool)), 1)), g.Node("Concat", new[] { w.Start, g.Ints("zero1", 0) }, ("axis", 0L)), g.Node("Concat", new[] { w.End, w.End }, ("axis", 0L)), g.Ints("axes01", 0, 1));
        var weights = g.Node("Softmax", new[] { g.Node("Add", scores, mask) }, ("axis", -1L));
        var y = g.Node("Reshape", g.Node("Transpose", new[] { g.Node("MatMul", weights, v) }, ("perm", new long[] { 0, 2, 1, 3 })), g.Ints($"merge_{a.InnerWidth}", 0, 0, a.InnerWidth));
        return Linear(g, $"{p}.attn.proj", y, a.Bias, lora?.Of("attn_proj"));
    }

    /// <summary>Rotate-half RoPE on the first rotated dimensions of each head (the rest pass through), positions 0 … T − 1.</summary>
    private static string Rotate(GraphBuilder g, string x, Span w, RotaryEmbedding rope, long headDim)
    {
        var (cosTable, sinTable) = rope.Tables;
        var rotary = cosTable.shape[1];
        var cos = g.Node("Slice", g.Constant($"rope_cos_{rotary}_{cosTable.shape[0]}", cosTable), w.Start, w.End, g.Ints("axis0", 0));
        var sin = g.Node("Slice", g.Constant($"rope_sin_{rotary}_{cosTable.shape[0]}", sinTable), w.Start, w.End, g.Ints("axis0", 0));
        string turned = x, rest = string.Empty;
        if (rotary < headDim)
        {
            var parts = g.Nodes("Split", new[] { x, g.Ints($"split_{rotary}_{headDim}", rotary, headDim - rotary) }, 2, ("axis", -1L));
            (turned, rest) = (parts[0], parts[1]);
        }

        var halves = g.Nodes("Split", new[] { turned, g.Ints($"halves_{rotary}", rotary / 2, rotary / 2) }, 2, ("axis", -1L));
        var rotated = g.Node("Concat", new[] { g.Node("Neg", halves[1]), halves[0] }, ("axis", -1L));
        var result = g.Node("Add", g.Node("Mul", turned, cos), g.Node("Mul", rotated, sin));
        return rotary < headDim ? g.Node("Concat", new[] { result, rest }, ("axis", -1L)) : result;
    }
}
