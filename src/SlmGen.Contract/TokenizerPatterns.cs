// Declared once for the runtime (its byte-level BPE tokenizers) and SlmGen.Inference (its tokenizer.json reader), which
// links this one file: the pre-tokenization both must split text by identically. The generator compiles it unused.
#if SLMGEN_RUNTIME
namespace SlmGen;
#elif SLMGEN_INFERENCE
namespace SlmGen.Inference;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>Regular expressions of the tokenizers SlmGen writes and reads.</summary>
internal static class TokenizerPatterns
{
    /// <summary>GPT-2's pre-tokenization (Hugging Face's ByteLevel pre-tokenizer with use_regex): contractions, letters, digits and other runs, each with one leading space; whitespace.</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
}
