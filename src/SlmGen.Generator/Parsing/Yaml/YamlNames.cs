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

    public static readonly (string Name, StoreType Value)[] StoreTypes =
    {
        ("fp16", StoreType.Fp16), ("float16", StoreType.Fp16), ("half", StoreType.Fp16), ("bf16", StoreType.Bf16), ("bfloat16", StoreType.Bf16), ("fp32", StoreType.Fp32), ("float32", StoreType.Fp32), ("float", StoreType.Fp32),
    };

    public static readonly (string Name, Quantizer Value)[] Quantizers =
    {
        ("qat", Quantizer.Qat), ("absmax", Quantizer.Absmax), ("rtn", Quantizer.Absmax), ("mse", Quantizer.Mse), ("gptq", Quantizer.Gptq), ("gptq-mse", Quantizer.GptqMse), ("learned", Quantizer.Learned), ("gptq-learned", Quantizer.GptqLearned),
    };

    public static readonly (string Name, QuantGrid Value)[] Grids =
    {
        ("symmetric", QuantGrid.Symmetric), ("stretched", QuantGrid.Stretched), ("seq", QuantGrid.Stretched),
    };

    public static readonly (string Name, ArtifactCompression Value)[] Compressions =
    {
        ("none", ArtifactCompression.None), ("zstd", ArtifactCompression.Zstd), ("lzma", ArtifactCompression.Lzma), ("xz", ArtifactCompression.Lzma), ("brotli", ArtifactCompression.Brotli), ("deflate", ArtifactCompression.Deflate), ("zlib", ArtifactCompression.Deflate),
    };
}
