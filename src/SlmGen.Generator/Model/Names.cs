namespace SlmGen.Generator.Model;

/// <summary>The names enums have in YAML, messages and cost tables.</summary>
internal static class Names
{
    public static string Of(Act act) => act switch
    {
        Act.Relu => "relu",
        Act.Gelu => "gelu",
        Act.Silu => "silu",
        Act.SwiGlu => "swiglu",
        Act.Tanh => "tanh",
        _ => "identity",
    };

    public static string Of(NormKind norm) => norm switch
    {
        NormKind.LayerNorm => "layernorm",
        NormKind.RmsNorm => "rmsnorm",
        _ => "none",
    };

    public static string Of(PositionKind kind) => kind switch
    {
        PositionKind.Learned => "learned",
        PositionKind.Sinusoidal => "sinusoidal",
        PositionKind.Rope => "rope",
        _ => "none",
    };

    public static string Of(InitScheme init) => init == InitScheme.Gpt2 ? "gpt2" : "torch";
}
