// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README).
#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>The names enums have in YAML, messages and cost tables.</summary>
public static class Names
{
    /// <summary>The name of an activation.</summary>
    public static string Of(Act act) => act switch
    {
        Act.Relu => "relu",
        Act.Gelu => "gelu",
        Act.Silu => "silu",
        Act.SwiGlu => "swiglu",
        Act.Tanh => "tanh",
        Act.ReluSquared => "relu2",
        Act.LeakyReluSquared => "leaky_relu2",
        _ => "identity",
    };

    /// <summary>The name of a norm.</summary>
    public static string Of(NormKind norm) => norm switch
    {
        NormKind.LayerNorm => "layernorm",
        NormKind.RmsNorm => "rmsnorm",
        NormKind.RmsNormFree => "rmsnorm_free",
        _ => "none",
    };

    /// <summary>The name of a kind of positions.</summary>
    public static string Of(PositionKind kind) => kind switch
    {
        PositionKind.Learned => "learned",
        PositionKind.Sinusoidal => "sinusoidal",
        PositionKind.Rope => "rope",
        _ => "none",
    };

    /// <summary>The name of an initialisation.</summary>
    public static string Of(InitScheme init) => init == InitScheme.Gpt2 ? "gpt2" : "torch";
}
