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

    /// <summary>Creates a block from its resolved config (the generated code prints it; see <see cref="BlockConfig"/>).</summary>
    public TransformerBlock(BlockConfig config)
        : base(nameof(TransformerBlock))
    {
        Config = config;
        ln_1 = Norms.Create(config.Norm.Kind, config.Width, config.Norm.Bias);
        attn = new CausalSelfAttention(config.Width, config.Attention);
        ln_2 = Norms.Create(config.Norm.Kind, config.Width, config.Norm.Bias);
        mlp = new FeedForward(config.Width, config.FeedForward);
        // No dropout module at p = 0: a dropout call still launches kernels in training mode.
        drop_attn = config.ResidualDropout > 0 ? nn.Dropout(config.ResidualDropout) : null;
        drop_mlp = config.ResidualDropout > 0 ? nn.Dropout(config.ResidualDropout) : null;
        preNorm = config.Norm.PreNorm;
        if (config.Sharing.LoraSets > 0)
        {
            var layers = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Concat(attn.AdaptableLayers(), mlp.AdaptableLayers()));
            var sets = new LoraSet[config.Sharing.LoraSets];
            for (var i = 0; i < sets.Length; i++)
            {
                sets[i] = new LoraSet(layers, config.Sharing.LoraRank);
            }

            lora = nn.ModuleList(sets);
        }

        RegisterComponents();
    }

    /// <summary>What the block was built from.</summary>
    public BlockConfig Config { get; }

    /// <summary>The attention layer.</summary>
    public CausalSelfAttention Attention => attn;

    /// <summary>The feed-forward network.</summary>
    public FeedForward Mlp => mlp;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <summary>
    /// Application <paramref name="application"/> of a shared block: the same weights with that application's own
    /// LoRA adapters (each application of a block with adapters has a set of its own; a block without them ignores it).
    /// </summary>
    public Tensor Apply(Tensor x, int application) => Forward(x, lora?[application]);

    private Tensor Forward(Tensor x, LoraSet? adapters)
    {
        if (preNorm)
        {
            x = x + Drop(drop_attn, attn.call(ln_1.call(x), adapters));
            x = x + Drop(drop_mlp, mlp.call(ln_2.call(x), adapters));
        }
        else
        {
            x = ln_1.call(x + Drop(drop_attn, attn.call(x, adapters)));
            x = ln_2.call(x + Drop(drop_mlp, mlp.call(x, adapters)));
        }

        return x;
    }

    private static Tensor Drop(Dropout? dropout, Tensor x) => dropout is null ? x : dropout.call(x);
}
