using SlmGen;

namespace SlmGen.Samples.Declared;

// The four character-level models of "Architectural Trade-offs in Small Language Models Under Compute
// Constraints" (arXiv 2512.20877): d_model 128, context 128, vocabulary 65, dropout 0.1 where
// nn.TransformerEncoderLayer and the study's MLP put it (attention probabilities, residual branches, inside the FFN,
// after the MLP's hidden layers), none on the embeddings.

/// <summary>Linear next-token predictor over the flattened 128 × 128 window.</summary>
[Model(Vocab = 65, Context = 128, Dropout = 0.1, EmbeddingDropout = 0)]
[TokenEmbedding(Dim = 128)]
[ContextFlatten]
[LMHead(Bias = true)]
public partial class LinearPredictor { }

/// <summary>MLP with two ReLU hidden layers of 256 over the flattened window.</summary>
[Model(Vocab = 65, Context = 128, Dropout = 0.1, EmbeddingDropout = 0)]
[TokenEmbedding(Dim = 128)]
[ContextFlatten]
[Dense(256, Activation = Act.Relu)]
[Dense(256, Activation = Act.Relu)]
[LMHead(Bias = true)]
public partial class MlpPredictor { }

/// <summary>One post-LayerNorm attention block (4 heads, packed in-projection, FFN 512 ReLU), learned positions.</summary>
[Model(Vocab = 65, Context = 128, Dropout = 0.1, EmbeddingDropout = 0)]
[TokenEmbedding(Dim = 128)]
[Positions(PositionKind.Learned)]
[TransformerBlocks(Layers = 1, Heads = 4, FfnHidden = 512, Activation = Act.Relu, PreNorm = false, FfnDropout = 0.1)]
[FinalNorm(NormKind.LayerNorm)]
[LMHead(Bias = true)]
public partial class SingleAttention { }

/// <summary>Three post-LayerNorm blocks with FFN 256.</summary>
[Model(Vocab = 65, Context = 128, Dropout = 0.1, EmbeddingDropout = 0)]
[TokenEmbedding(Dim = 128)]
[Positions(PositionKind.Learned)]
[TransformerBlocks(Layers = 3, Heads = 4, FfnHidden = 256, Activation = Act.Relu, PreNorm = false, FfnDropout = 0.1)]
[FinalNorm(NormKind.LayerNorm)]
[LMHead(Bias = true)]
public partial class ThreeLayerTransformer { }
