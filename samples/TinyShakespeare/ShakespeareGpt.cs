using SlmGen;

namespace SlmGen.Samples.TinyShakespeare;

/// <summary>
/// A small GPT for characters, sized to train on a 2-core CPU in a few minutes: 4 pre-LayerNorm blocks of
/// width 128 with 4 heads, a 64-character context, and an LM head tied to the embedding.
/// Hover the class name to see its cost table; the build fails the budget check if it grows past 1M parameters.
/// </summary>
[Model(Vocab = 65, Context = 64, Init = InitScheme.Gpt2)]
[TokenEmbedding(Dim = 128)]
[Positions(PositionKind.Learned)]
[TransformerBlocks(Layers = 4, Heads = 4, FfnMultiplier = 4, Activation = Act.Gelu)]
[FinalNorm(NormKind.LayerNorm)]
[LMHead(TiedToEmbedding = true)]
[Budget(MaxParameters = 1_000_000)]
public partial class ShakespeareGpt { }
