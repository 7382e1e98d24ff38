using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// The position-wise feed-forward network: <c>proj(act(fc(x)))</c>, or for SwiGLU
/// <c>proj(silu(gate(x)) ⊙ fc(x))</c>; with <c>dropout</c> &gt; 0, <c>proj(dropout(act(fc(x))))</c>.
/// </summary>
public sealed class FeedForward : nn.Module<Tensor, LoraSet?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc;
    private readonly nn.Module<Tensor, Tensor>? gate;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly Dropout? drop;
    private readonly Act activation;

    /// <summary>Creates the FFN of a <paramref name="width"/>-wide residual stream.</summary>
    public FeedForward(long width, FeedForwardConfig config) : base(nameof(FeedForward))
    {
        drop = config.Dropout > 0 ? nn.Dropout(config.Dropout) : null;
        fc = Linears.Create(width, config.Hidden, config.Bias, config.WeightBits);
        gate = config.Activation == Act.SwiGlu ? Linears.Create(width, config.Hidden, config.Bias, config.WeightBits) : null;
        proj = Linears.Create(config.Hidden, width, config.Bias, config.WeightBits);
        activation = config.Activation;
        RegisterComponents();
    }

    /// <summary>The linear layers, by the names their adapters use: (name, in, out).</summary>
    public System.Collections.Generic.IEnumerable<(string Name, long In, long Out)> AdaptableLayers()
    {
        var (fcIn, fcOut) = Linears.ShapeOf(fc);
        yield return ("mlp_fc", fcIn, fcOut);
        if (gate is not null)
        {
            yield return ("mlp_gate", fcIn, fcOut);
        }

        var (projIn, projOut) = Linears.ShapeOf(proj);
        yield return ("mlp_proj", projIn, projOut);
    }

    /// <summary>The output projection (its weight is scaled at GPT-2 initialisation).</summary>
    public Tensor OutputProjectionWeight => Linears.WeightOf(proj);

    /// <summary>The layer without adapters.</summary>
    public Tensor call(Tensor x) => call(x, null);

    /// <summary>The FFN with <paramref name="adapters"/> (one application's LoRA set of a shared block) added to its matrices, or none.</summary>
    public override Tensor forward(Tensor x, LoraSet? adapters)
    {
        var h = gate is null ? Activated(x, adapters) : Gated(x, adapters);
        return Linear("mlp_proj", proj, drop is null ? h : drop.call(h), adapters);
    }

    // act(fc(x)); with the fused kernels, the bias joins the activation's kernel (and its gradient that kernel's
    // backward) for a plain linear layer, or the activation alone is fused after an adapted or quantised one.
    private Tensor Activated(Tensor x, LoraSet? adapters)
    {
        var kernel = SlmGen.Native.FusedKernels.KernelOf(activation);
        if (kernel >= 0 && adapters is null && fc is TorchSharp.Modules.Linear plain && SlmGen.Native.FusedKernels.Applies(x, plain.weight, plain.bias))
        {
            return SlmGen.Native.FusedKernels.BiasAct(nn.functional.linear(x, plain.weight), plain.bias, kernel);
        }

        var pre = Linear("mlp_fc", fc, x, adapters);
        return kernel >= 0 && SlmGen.Native.FusedKernels.Applies(pre) ? SlmGen.Native.FusedKernels.BiasAct(pre, null, kernel) : Activations.Apply(activation, pre);
    }

    private Tensor Gated(Tensor x, LoraSet? adapters)
    {
        var g = Linear("mlp_gate", gate!, x, adapters);
        var v = Linear("mlp_fc", fc, x, adapters);
        return SlmGen.Native.FusedKernels.Applies(g, v) && SlmGen.Native.FusedKernels.SameShape(g, v) ? SlmGen.Native.FusedKernels.SwiGlu(g, v) : nn.functional.silu(g) * v;
    }

    private static Tensor Linear(string name, nn.Module<Tensor, Tensor> layer, Tensor x, LoraSet? adapters) => adapters is null ? Linears.Apply(layer, x) : adapters.Adapt(name, x, Linears.Apply(layer, x));
}
