using SlmGen;

namespace SlmGen.Samples.Bench;

/// <summary>
/// nanoGPT's baby GPT with dropout 0, for timing training steps (the reference PyTorch benchmarks time it without dropout): vocab 65, context 256, 6 layers,
/// 6 heads, width 384, GELU MLP 4x, pre-LayerNorm with bias, learned positions, tied head, dropout 0.
/// </summary>
[Model(Vocab = 65, Context = 256, Dropout = 0, Init = InitScheme.Gpt2)]
[TokenEmbedding(Dim = 384)]
[Positions(PositionKind.Learned)]
[TransformerBlocks(Layers = 6, Heads = 6, FfnMultiplier = 4, Activation = Act.Gelu, Norm = NormKind.LayerNorm, PreNorm = true)]
[FinalNorm(NormKind.LayerNorm)]
[LMHead(TiedToEmbedding = true)]
public partial class BenchGpt { }
