// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): the generator compiles
// this file in under its own namespace, reads attribute arguments as these numbers and prints these names into
// generated code; the runtime declares the public types users write in attributes.
#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>How token positions are made known to the model.</summary>
public enum PositionKind
{
    /// <summary>No position information (a flatten window or a causal mask alone carries order).</summary>
    None = 0,
    /// <summary>A learned table of <c>Context × Dim</c> vectors added to the token embedding.</summary>
    Learned = 1,
    /// <summary>Fixed sine/cosine vectors (Vaswani et al.) added to the token embedding; no parameters.</summary>
    Sinusoidal = 2,
    /// <summary>Rotary embeddings (rotate-half) applied to queries and keys in every attention layer; no parameters.</summary>
    Rope = 3,
}

/// <summary>Activation functions.</summary>
public enum Act
{
    /// <summary>max(0, x).</summary>
    Relu = 0,
    /// <summary>Gaussian error linear unit (exact, erf).</summary>
    Gelu = 1,
    /// <summary>x · sigmoid(x).</summary>
    Silu = 2,
    /// <summary>Gated: SiLU(x W₁) ⊙ (x W₃), then W₂. Three matrices instead of two (FFNs only).</summary>
    SwiGlu = 3,
    /// <summary>tanh(x).</summary>
    Tanh = 4,
    /// <summary>No activation.</summary>
    Identity = 5,
    /// <summary>Squared ReLU: relu(x)² (Primer; the modded-nanogpt speedrun's MLP).</summary>
    ReluSquared = 6,
    /// <summary>Leaky squared ReLU: leaky_relu(x, 0.5)² (negative inputs give 0.25·x²).</summary>
    LeakyReluSquared = 7,
}

/// <summary>Normalisation layers.</summary>
public enum NormKind
{
    /// <summary>No normalisation.</summary>
    None = 0,
    /// <summary>LayerNorm (scale, and a bias unless switched off).</summary>
    LayerNorm = 1,
    /// <summary>RMSNorm (scale only).</summary>
    RmsNorm = 2,
    /// <summary>RMSNorm without a learned scale (parameter-free: <c>x / sqrt(mean(x²) + eps)</c>).</summary>
    RmsNormFree = 3,
}

/// <summary>Weight initialisation.</summary>
public enum InitScheme
{
    /// <summary>PyTorch's defaults for each layer (nn.Linear, nn.Embedding, nn.MultiheadAttention for packed q/k/v).</summary>
    TorchDefault = 0,
    /// <summary>GPT-2 / nanoGPT: N(0, 0.02) for matrices and embeddings, zero biases, residual projections scaled by 1/√(2·layers).</summary>
    Gpt2 = 1,
}
