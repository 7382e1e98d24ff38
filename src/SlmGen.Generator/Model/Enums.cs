namespace SlmGen.Generator.Model;

// Mirrors of the runtime enums (SlmGen.Runtime/Dsl/Enums.cs): attribute arguments arrive as their numbers.
// A test checks that names and values agree.

internal enum PositionKind
{
    None = 0,
    Learned = 1,
    Sinusoidal = 2,
    Rope = 3,
}

internal enum Act
{
    Relu = 0,
    Gelu = 1,
    Silu = 2,
    SwiGlu = 3,
    Tanh = 4,
    Identity = 5,
}

internal enum NormKind
{
    None = 0,
    LayerNorm = 1,
    RmsNorm = 2,
}

internal enum InitScheme
{
    TorchDefault = 0,
    Gpt2 = 1,
}

internal enum SpecSource
{
    Attributes,
    Yaml,
}
