using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>Applies an <see cref="Act"/> (SwiGLU's gate is handled by <see cref="FeedForward"/>).</summary>
public static class Activations
{
    /// <summary>Applies <paramref name="act"/> to <paramref name="x"/>.</summary>
    public static Tensor Apply(Act act, Tensor x) => act switch
    {
        Act.Relu => nn.functional.relu(x),
        Act.Gelu => nn.functional.gelu(x),
        Act.Silu => nn.functional.silu(x),
        Act.Tanh => x.tanh(),
        Act.Identity => x.alias(),
        Act.ReluSquared => nn.functional.relu(x).Squared(),
        Act.LeakyReluSquared => x.LeakyRelu(0.5).Squared(),
        _ => throw new ArgumentOutOfRangeException(nameof(act), act, "not an elementwise activation"),
    };
}
