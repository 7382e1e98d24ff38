using SlmGen;

namespace SlmGenApp;

/// <summary>
/// A small character-level transformer, declared with attributes. The build generates its TorchSharp module
/// and its costs (TinyTransformer.ParameterCount, .TrainingFlopsPerToken, …); the budget below is checked at
/// build time: make the model larger than it and the build fails.
/// </summary>
[Model(Vocab = 58, Context = 64, Dropout = 0.1, Init = InitScheme.Gpt2)]
[TokenEmbedding(Dim = 64)]
[Positions(PositionKind.Rope)]
[TransformerBlocks(Layers = 2, Heads = 4, FfnMultiplier = 4, Activation = Act.SwiGlu, Norm = NormKind.RmsNorm)]
[FinalNorm(NormKind.RmsNorm)]
[LMHead(TiedToEmbedding = true)]
[Budget(MaxParameters = 250_000)]
public partial class TinyTransformer
{
}
