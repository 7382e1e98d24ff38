using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// One transformer block. Pre-norm: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.
/// Post-norm (the original Transformer, nn.TransformerEncoderLayer's default):
/// <c>ln_1(x + attn(x))</c>, then <c>ln_2(x + mlp(x))</c>. Parallel (pre-norm only):
/// <c>x + attn(ln_1(x)) + mlp(ln_2(x))</c>. Dropout on both residual branches (and, with
/// <c>ffnDropout</c>, inside the FFN after its activation, as nn.TransformerEncoderLayer does). With branch
/// scales each branch is multiplied by a learned per-channel vector before it is added; with residual mixing
/// the block first replaces x by <c>resid_mix[0] ⊙ x + resid_mix[1] ⊙ x₀</c> (x₀: the stack's input).
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
    private readonly Parameter? attn_scale;
    private readonly Parameter? mlp_scale;
    private readonly Parameter? resid_mix;
    private readonly bool parallel;
    private readonly double normScale;

    /// <summary>Creates a block from its resolved config (the generated code prints it; see <see cref="BlockConfig"/>).</summary>
    public TransformerBlock(BlockConfig config)
        : base(nameof(TransformerBlock))
    {
        Config = config;
        ln_1 = Norms.Create(config.Norm.Kind, config.Width, config.Norm.Bias);
        attn = new CausalSelfAttention(config.Width, config.Attention, config.MixesValues);
        ln_2 = Norms.Create(config.Norm.Kind, config.Width, config.Norm.Bias);
        mlp = new FeedForward(config.Width, config.FeedForward);
        // No dropout module at p = 0: a dropout call still launches kernels in training mode.
        drop_attn = config.ResidualDropout > 0 ? nn.Dropout(config.ResidualDropout) : null;
        drop_mlp = config.ResidualDropout > 0 ? nn.Dropout(config.ResidualDropout) : null;
        preNorm = config.Norm.PreNorm;
        parallel = config.Parallel;
        normScale = config.NormOutputScale;
        attn_scale = config.BranchScales ? nn.Parameter(ones(config.Width)) : null;
        mlp_scale = config.BranchScales ? nn.Parameter(ones(config.Width)) : null;
        resid_mix = config.ResidualMix ? nn.Parameter(stack(new[] { ones(config.Width), zeros(config.Width) })) : null;
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

    /// <summary>True when the block mixes its input with the stack's input (its <see cref="Apply"/> then needs x₀).</summary>
    public bool MixesInput => resid_mix is not null;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Forward(x, null, null, null);

    /// <summary>
    /// Application <paramref name="application"/> of a shared block: the same weights with that application's own
    /// LoRA adapters (each application of a block with adapters has a set of its own; a block without them ignores it),
    /// the stack's input <paramref name="x0"/> for a block with residual mixing, and the pass's first-block values
    /// <paramref name="values"/> in a value-residual stack.
    /// </summary>
    public Tensor Apply(Tensor x, int application, Tensor? x0 = null, ValueResidual? values = null) => Forward(x, x0, lora?[application], values);

    private Tensor Forward(Tensor x, Tensor? x0, LoraSet? adapters, ValueResidual? values)
    {
        // The pass's first-block values reach the attention through a property (its call keeps the module's hooks).
        attn.Values = values;
        try
        {
            return Sublayers(x, x0, adapters);
        }
        finally
        {
            attn.Values = null;
        }
    }

    private Tensor Sublayers(Tensor x, Tensor? x0, LoraSet? adapters)
    {
        if (resid_mix is not null)
        {
            if (x0 is null)
            {
                throw new ArgumentException("This block mixes its input with the stack's input x0 (residual_mix): call Apply(x, application, x0).", nameof(x0));
            }

            x = (resid_mix[0].to(x.dtype) * x).Plus(resid_mix[1].to(x.dtype) * x0);
        }

        if (parallel)
        {
            return x.Plus(Branch(drop_attn, attn_scale, attn.call(Norm(ln_1, x), adapters))).Plus(Branch(drop_mlp, mlp_scale, mlp.call(Norm(ln_2, x), adapters)));
        }

        if (preNorm)
        {
            var branch = Branch(drop_attn, attn_scale, attn.call(Norm(ln_1, x), adapters));
            // The residual add and the MLP's norm in one kernel where the fused kernels apply (the same values).
            if (normScale == 1.0 && SlmGen.Native.FusedKernels.TryAddNorm(ln_2, x, branch, out var sum, out var normed))
            {
                return sum.Plus(Branch(drop_mlp, mlp_scale, mlp.call(normed, adapters)));
            }

            x = x.Plus(branch);
            x = x.Plus(Branch(drop_mlp, mlp_scale, mlp.call(Norm(ln_2, x), adapters)));
        }
        else
        {
            x = ln_1.call(x.Plus(Branch(drop_attn, attn_scale, attn.call(x, adapters))));
            x = ln_2.call(x.Plus(Branch(drop_mlp, mlp_scale, mlp.call(x, adapters))));
        }

        return x;
    }

    /// <summary>A pre-norm's output, scaled by 1/√(depth + 1) where the block has depth-scaled norms.</summary>
    private Tensor Norm(nn.Module<Tensor, Tensor> norm, Tensor x)
    {
        var y = SlmGen.Native.FusedKernels.TryNorm(norm, x, out var normed) ? normed : norm.call(x);
        return normScale == 1.0 ? y : y.Times(normScale);
    }

    /// <summary>A residual branch's output as it is added: dropped out in training, then scaled per channel where the block has branch scales.</summary>
    private static Tensor Branch(Dropout? dropout, Parameter? scale, Tensor y)
    {
        y = dropout is null ? y : dropout.call(y);
        return scale is null ? y : scale.to(y.dtype) * y;
    }
}
