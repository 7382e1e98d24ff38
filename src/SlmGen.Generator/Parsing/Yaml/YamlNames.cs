using SlmGen.Generator.Model;

namespace SlmGen.Generator.Parsing.Yaml;

/// <summary>The names YAML accepts for each enum (case-insensitive; the first of each value is the canonical one).</summary>
internal static class YamlNames
{
    public static readonly (string Name, Act Value)[] Activations =
    {
        ("relu", Act.Relu), ("gelu", Act.Gelu), ("silu", Act.Silu), ("swish", Act.Silu), ("swiglu", Act.SwiGlu), ("tanh", Act.Tanh), ("identity", Act.Identity), ("linear", Act.Identity), ("none", Act.Identity),
        ("relu2", Act.ReluSquared), ("relu_squared", Act.ReluSquared), ("squared_relu", Act.ReluSquared), ("leaky_relu2", Act.LeakyReluSquared), ("leaky_relu_squared", Act.LeakyReluSquared),
    };

    public static readonly (string Name, NormKind Value)[] Norms =
    {
        ("layernorm", NormKind.LayerNorm), ("layer_norm", NormKind.LayerNorm), ("ln", NormKind.LayerNorm), ("rmsnorm", NormKind.RmsNorm), ("rms_norm", NormKind.RmsNorm), ("rms", NormKind.RmsNorm), ("rmsnorm_free", NormKind.RmsNormFree), ("rms_norm_free", NormKind.RmsNormFree), ("none", NormKind.None),
    };

    public static readonly (string Name, PositionKind Value)[] Positions =
    {
        ("learned", PositionKind.Learned), ("absolute", PositionKind.Learned), ("sinusoidal", PositionKind.Sinusoidal), ("sin", PositionKind.Sinusoidal), ("rope", PositionKind.Rope), ("rotary", PositionKind.Rope), ("none", PositionKind.None),
    };

    public static readonly (string Name, InitScheme Value)[] Inits =
    {
        ("torch", InitScheme.TorchDefault), ("pytorch", InitScheme.TorchDefault), ("default", InitScheme.TorchDefault), ("gpt2", InitScheme.Gpt2), ("nanogpt", InitScheme.Gpt2),
    };
}
