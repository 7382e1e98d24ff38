using SlmGen;

namespace SlmGen.Samples.Declared;

/// <summary>nanoGPT's Tiny Shakespeare "baby GPT" (config/train_shakespeare_char.py).</summary>
[Model(Vocab = 65, Context = 256, Dropout = 0.2, Init = InitScheme.Gpt2)]
[TokenEmbedding(Dim = 384)]
[Positions(PositionKind.Learned)]
[TransformerBlocks(Layers = 6, Heads = 6, FfnMultiplier = 4, Activation = Act.Gelu, Norm = NormKind.LayerNorm, PreNorm = true)]
[FinalNorm(NormKind.LayerNorm)]
[LMHead(TiedToEmbedding = true)]
public partial class BabyGpt { }
