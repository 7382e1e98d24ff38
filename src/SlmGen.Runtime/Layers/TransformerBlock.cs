using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// One transformer block. Pre-norm: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.
/// Post-norm (the original Transformer, nn.TransformerEncoderLayer's default):
/// <c>ln_1(x + attn(x))</c>, then <c>ln_2(x + mlp(x))</c>. Dropout on both residual branches (and, with
/// <c>ffnDropout</c>, inside the FFN after its activation, as nn.TransformerEncoderLayer does).
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> ln_1;
    private readonly CausalSelfAttention attn;
    private readonly nn.Module<Tensor, Tensor> ln_2;
    private readonly FeedForward mlp;
    private readonly Dropout? drop_attn;
    private readonly Dropout? drop_mlp;
    private readonly bool preNorm;
    private readonly ModuleList<LoraSet>? lora;

    /// <summary>Creates a block.</summary>
    public TransformerBlock(
        long dModel,
        int heads,
        long ffnHidden,
        Act activation,
        NormKind norm,
        bool normBias,
        bool preNorm,
        bool packedQkv,
        bool attentionBias,
        bool ffnBias,
        double dropout,
        int context,
        bool rope,
        double ropeBase = 10000.0,
        double ffnDropout = 0.0,
        int kvHeads = 0,
        long headDim = 0,
        int loraRank = 0,
        int loraApplications = 0,
        int attentionBits = 0,
        int mlpBits = 0)
        : base(nameof(TransformerBlock))
    {
        ln_1 = Norms.Create(norm, dModel, normBias);
        attn = new CausalSelfAttention(dModel, heads, packedQkv, attentionBias, dropout, context, rope, ropeBase, kvHeads, headDim, attentionBits);
        ln_2 = Norms.Create(norm, dModel, normBias);
        mlp = new FeedForward(dModel, ffnHidden, activation, ffnBias, ffnDropout, mlpBits);
        // No dropout module at p = 0: a dropout call still launches kernels in training mode.
        drop_attn = dropout > 0 ? nn.Dropout(dropout) : null;
        drop_mlp = dropout > 0 ? nn.Dropout(dropout) : null;
        this.preNorm = preNorm;
        if (loraRank > 0 && loraApplications > 0)
        {
            var layers = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Concat(attn.AdaptableLayers(), mlp.AdaptableLayers()));
            var sets = new LoraSet[loraApplications];
            for (var i = 0; i < sets.Length; i++)
            {
                sets[i] = new LoraSet(layers, loraRank);
            }

            lora = nn.ModuleList(sets);
        }

        RegisterComponents();
    }

    /// <summary>The attention layer.</summary>
    public CausalSelfAttention Attention => attn;

    /// <summary>
    /// Selects the LoRA adapters of application <paramref name="application"/> of this shared block for the
    /// next calls (each application of a shared block has its own adapters; a block without them ignores it).
    /// </summary>
    public TransformerBlock Use(int application)
    {
        if (lora is not null)
        {
            attn.Adapters = lora[application];
            mlp.Adapters = lora[application];
        }

        return this;
    }

    /// <summary>The feed-forward network.</summary>
    public FeedForward Mlp => mlp;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (preNorm)
        {
            x = x + Drop(drop_attn, attn.call(ln_1.call(x)));
            x = x + Drop(drop_mlp, mlp.call(ln_2.call(x)));
        }
        else
        {
            x = ln_1.call(x + Drop(drop_attn, attn.call(x)));
            x = ln_2.call(x + Drop(drop_mlp, mlp.call(x)));
        }

        return x;
    }

    private static Tensor Drop(Dropout? dropout, Tensor x) => dropout is null ? x : dropout.call(x);
}
