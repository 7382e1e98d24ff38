using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using SlmGen.IO;
using static TorchSharp.torch;

namespace SlmGen.Interop;

/// <summary>What the GGUF export wrote: the file type and, per tensor, the type it got (with the reason where it is not the file's type).</summary>
/// <param name="Architecture">llama.cpp's architecture: "llama" or "gpt2".</param>
/// <param name="FileType">The requested type of the weight matrices.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="Tensors">Each tensor's GGUF name, shape (ggml order) and type.</param>
/// <param name="Notes">Tensors stored at another type than requested, and why.</param>
public sealed record GgufReport(string Architecture, GgmlType FileType, long Bytes, IReadOnlyList<(string Name, long[] Shape, GgmlType Type)> Tensors, IReadOnlyList<string> Notes);

/// <summary>
/// A model as a GGUF file for llama.cpp (and so LLamaSharp, Ollama, LM Studio): the Llama- and GPT-2-shaped designs
/// (<see cref="HuggingFaceExport"/>'s families, from the same conversion) with the tokenizer embedded as llama.cpp's
/// byte-level BPE ("gpt2" model, GPT-2 pre-tokenisation): a BPE SlmGen trained (its merges) or GPT-2's own, bytes (no merges) or
/// characters (each character one token; the merges that rebuild a character from its UTF-8 bytes). Llama's query and key
/// rows are permuted from Hugging Face's rotate-half layout to ggml's interleaved pairs, as llama.cpp's converter does.
/// Matrices are written as F32, F16, Q8_0 or Q4_0; ggml's block types need rows of a multiple of 32 values, so a matrix
/// whose rows are not is written as F16 (said in the report), and norms and biases stay F32, as llama.cpp's converter does.
/// </summary>
public static class GgufExport
{
    /// <summary>Why the model (with this tokenizer) has no GGUF form, or null when it has one.</summary>
    public static string? Unsupported(SlmModel model, ITokenizer? tokenizer)
    {
        if (HuggingFaceExport.Unsupported(model) is { } reason)
        {
            return $"{model.GetName()} has no GGUF form: {reason}";
        }

        return tokenizer is null ? "the GGUF form embeds the tokenizer: give the data the model was trained on (--data) or declare its tokenizer"
            : Vocabulary(tokenizer, model.DeclaredVocab, (int)model.Vocab, out _) is { } why ? why : null;
    }

    /// <summary>Writes the model as a GGUF file (atomically) and says what it wrote.</summary>
    /// <exception cref="NotSupportedException">No GGUF form (<see cref="Unsupported"/> says why).</exception>
    public static GgufReport Write(SlmModel model, ITokenizer tokenizer, string path, GgmlType type)
    {
        if (Unsupported(model, tokenizer) is { } reason)
        {
            throw new NotSupportedException(reason);
        }

        using var scope = NewDisposeScope();
        var (family, config, hfTensors, tied) = HuggingFaceExport.Convert(model);
        var writer = new GgufWriter();
        var stack = model.Plan.OfType<StackStep>().Single();
        var attention = stack.Block.Attention;
        long Int(string key) => System.Convert.ToInt64(config[key]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        writer.Add("general.architecture", family);
        writer.Add("general.name", model.GetName());
        writer.Add("general.file_type", type switch { GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q4_0 => 2u, _ => 7u });
        writer.Add("general.quantization_version", 2u);
        if (family == "llama")
        {
            writer.Add("llama.context_length", (uint)model.Context);
            writer.Add("llama.embedding_length", (uint)Int("hidden_size"));
            writer.Add("llama.block_count", (uint)Int("num_hidden_layers"));
            writer.Add("llama.feed_forward_length", (uint)Int("intermediate_size"));
            writer.Add("llama.attention.head_count", (uint)attention.Heads);
            writer.Add("llama.attention.head_count_kv", (uint)attention.KvHeads);
            writer.Add("llama.attention.key_length", (uint)attention.HeadDim);
            writer.Add("llama.attention.value_length", (uint)attention.HeadDim);
            writer.Add("llama.attention.layer_norm_rms_epsilon", (float)config["rms_norm_eps"]!.GetValue<double>());
            writer.Add("llama.rope.freq_base", (float)config["rope_theta"]!.GetValue<double>());
            writer.Add("llama.rope.dimension_count", (uint)attention.HeadDim);
            writer.Add("llama.vocab_size", (uint)model.Vocab);
        }
        else
        {
            writer.Add("gpt2.context_length", (uint)Int("n_positions"));
            writer.Add("gpt2.embedding_length", (uint)Int("n_embd"));
            writer.Add("gpt2.block_count", (uint)Int("n_layer"));
            writer.Add("gpt2.feed_forward_length", (uint)Int("n_inner"));
            writer.Add("gpt2.attention.head_count", (uint)Int("n_head"));
            writer.Add("gpt2.attention.layer_norm_epsilon", (float)config["layer_norm_epsilon"]!.GetValue<double>());
        }

        Vocabulary(tokenizer, model.DeclaredVocab, (int)model.Vocab, out var vocabulary);
        var (tokens, types, merges, endOfText) = vocabulary!.Value;
        writer.Add("tokenizer.ggml.model", "gpt2");
        writer.Add("tokenizer.ggml.pre", "gpt-2");
        writer.Add("tokenizer.ggml.tokens", tokens);
        writer.Add("tokenizer.ggml.token_type", types);
        writer.Add("tokenizer.ggml.merges", merges);
        writer.Add("tokenizer.ggml.add_bos_token", false);
        if (endOfText is { } eot)
        {
            writer.Add("tokenizer.ggml.bos_token_id", (uint)eot);
            writer.Add("tokenizer.ggml.eos_token_id", (uint)eot);
        }

        var written = new List<(string, long[], GgmlType)>();
        var notes = new List<string>();
        foreach (var (hfName, tensor) in hfTensors)
        {
            var (name, value) = family == "llama" ? Llama(hfName, tensor, attention.Heads, attention.KvHeads) : Gpt2(hfName, tensor);
            var data = value.contiguous().data<float>().ToArray();
            var shape = value.shape.Reverse().ToArray();
            var tensorType = value.dim() < 2 ? GgmlType.F32 : type;
            if (tensorType is GgmlType.Q8_0 or GgmlType.Q4_0 && shape[0] % 32 != 0)
            {
                notes.Add($"{name}: rows of {shape[0]} values (not a multiple of 32) as F16");
                tensorType = GgmlType.F16;
            }

            writer.AddTensor(name, shape, tensorType, GgufWriter.Encode(data, tensorType));
            written.Add((name, shape, tensorType));
        }

        if (tied)
        {
            notes.Add("output: tied to token_embd (llama.cpp reads the embedding as the head)");
        }

        AtomicFile.Write(path, writer.Write);
        return new GgufReport(family, type, new FileInfo(path).Length, written, notes);
    }

    private static (string, Tensor) Llama(string name, Tensor value, long heads, long kvHeads)
    {
        // Hugging Face's rotate-half query/key rows → ggml's interleaved pairs (llama.cpp's convert_hf_to_gguf permute).
        static Tensor Permute(Tensor w, long n)
        {
            var rows = w.shape[0];
            var rest = w.shape.Skip(1).ToArray();
            return w.reshape(new[] { n, 2, rows / n / 2 }.Concat(rest).ToArray()).transpose(1, 2).reshape(w.shape);
        }

        if (name == "model.embed_tokens.weight")
        {
            return ("token_embd.weight", value);
        }

        if (name == "model.norm.weight")
        {
            return ("output_norm.weight", value);
        }

        if (name == "lm_head.weight")
        {
            return ("output.weight", value);
        }

        var parts = name.Split('.'); // model.layers.{i}.{module}.{proj}.{weight|bias}
        var block = $"blk.{parts[2]}.";
        var suffix = parts[^1];
        var module = string.Join('.', parts[3..^1]);
        return module switch
        {
            "input_layernorm" => (block + "attn_norm." + suffix, value),
            "post_attention_layernorm" => (block + "ffn_norm." + suffix, value),
            "self_attn.q_proj" => (block + "attn_q." + suffix, Permute(value, heads)),
            "self_attn.k_proj" => (block + "attn_k." + suffix, Permute(value, kvHeads)),
            "self_attn.v_proj" => (block + "attn_v." + suffix, value),
            "self_attn.o_proj" => (block + "attn_output." + suffix, value),
            "mlp.gate_proj" => (block + "ffn_gate." + suffix, value),
            "mlp.up_proj" => (block + "ffn_up." + suffix, value),
            "mlp.down_proj" => (block + "ffn_down." + suffix, value),
            _ => throw new InvalidOperationException($"no GGUF name for {name}"),
        };
    }

    private static (string, Tensor) Gpt2(string name, Tensor value)
    {
        switch (name)
        {
            case "transformer.wte.weight": return ("token_embd.weight", value);
            case "transformer.wpe.weight": return ("position_embd.weight", value);
            case "transformer.ln_f.weight": return ("output_norm.weight", value);
            case "transformer.ln_f.bias": return ("output_norm.bias", value);
            case "lm_head.weight": return ("output.weight", value);
        }

        var parts = name.Split('.'); // transformer.h.{i}.{module}.{weight|bias}
        var block = $"blk.{parts[2]}.";
        var suffix = parts[^1];
        var module = string.Join('.', parts[3..^1]);
        // GPT-2's Conv1D weights are [in, out]: back to ggml's [out, in] rows.
        var linear = suffix == "weight" && module is "attn.c_attn" or "attn.c_proj" or "mlp.c_fc" or "mlp.c_proj" ? value.t() : value;
        return module switch
        {
            "ln_1" => (block + "attn_norm." + suffix, value),
            "ln_2" => (block + "ffn_norm." + suffix, value),
            "attn.c_attn" => (block + "attn_qkv." + suffix, linear),
            "attn.c_proj" => (block + "attn_output." + suffix, linear),
            "mlp.c_fc" => (block + "ffn_up." + suffix, linear),
            "mlp.c_proj" => (block + "ffn_down." + suffix, linear),
            _ => throw new InvalidOperationException($"no GGUF name for {name}"),
        };
    }

    /// <summary>The tokenizer as llama.cpp's byte-level BPE vocabulary (padded ids as unused tokens), or the reason it has none.</summary>
    private static string? Vocabulary(ITokenizer tokenizer, int declared, int logits, out (List<string> Tokens, List<int> Types, List<string> Merges, int? EndOfText)? vocabulary)
    {
        vocabulary = null;
        if (tokenizer.VocabSize != declared)
        {
            return $"the tokenizer has {tokenizer.VocabSize:N0} tokens, the model {declared:N0}";
        }

        var tokens = new List<string>();
        var merges = new List<string>();
        int? endOfText = null;
        switch (tokenizer)
        {
            case ByteTokenizer:
                tokens.AddRange(Enumerable.Range(0, 256).Select(b => ByteLevel.Char((byte)b).ToString()));
                break;
            case CharTokenizer chars:
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var c in chars.Characters)
                {
                    if (char.IsSurrogate(c))
                    {
                        return $"the character vocabulary holds half of a surrogate pair (U+{(int)c:X4}), which has no UTF-8 bytes";
                    }

                    var spelled = ByteLevel.Spell(c.ToString());
                    tokens.Add(spelled);
                    // The merges that rebuild the character from its bytes, left to right.
                    for (var i = 2; i <= spelled.Length; i++)
                    {
                        var merge = spelled[..(i - 1)] + " " + spelled[i - 1];
                        if (seen.Add(merge))
                        {
                            merges.Add(merge);
                        }
                    }
                }

                break;
            }

            case TiktokenTextTokenizer { Name: not "gpt2" } other:
                return $"the {other.Name} tokenizer is not embedded in GGUF (its pattern is not GPT-2's; only GPT-2's tiktoken encoding is)";
            case BpeTextTokenizer or TiktokenTextTokenizer:
            {
                var document = HuggingFaceTokenizer.Document(tokenizer);
                var json = document["model"]!;
                var byId = new string[tokenizer.VocabSize];
                foreach (var (token, id) in json["vocab"]!.AsObject())
                {
                    byId[id!.GetValue<int>()] = token;
                }

                // The added tokens (GPT-2's <|endoftext|>) by their ids; an id no token names is an unused placeholder.
                foreach (var added in document["added_tokens"]?.AsArray() ?? new JsonArray())
                {
                    byId[added!["id"]!.GetValue<int>()] = added["content"]!.GetValue<string>();
                }

                var eot = Array.IndexOf(byId, BpeTrainer.EndOfText); // SlmGen's BPE and GPT-2 both call it <|endoftext|>
                tokens.AddRange(byId.Select((t, i) => t ?? $"<|slmgen_unused_{i}|>"));
                merges.AddRange(json["merges"]!.AsArray().Select(m => m!.GetValue<string>()));
                endOfText = eot >= 0 ? eot : null;
                break;
            }

            default:
                return $"llama.cpp has no tokenizer of the {tokenizer.GetType().Name} kind (the GGUF form embeds byte-level BPE: a BPE, bytes or characters)";
        }

        var types = tokens.Select((t, i) => i == endOfText ? 3 : 1).ToList();
        for (var i = declared; i < logits; i++)
        {
            tokens.Add($"<|slmgen_pad_{i}|>");
            types.Add(5); // unused: the padded ids hold no token
        }

        vocabulary = (tokens, types, merges, endOfText);
        return null;
    }
}
