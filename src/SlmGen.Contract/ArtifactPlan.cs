// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): a model's precision plan for
// the shipped artifact — what the spec's `quantization:` section declares — and the artifact's layout, tensor by
// tensor, so that the generator states the file's size to the byte and the runtime writes exactly that.
using System;
using System.Collections.Generic;
using System.Globalization;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>How a tensor that is not quantised, or a quantisation scale, is stored.</summary>
public enum StoreType
{
    /// <summary>IEEE single precision (4 bytes).</summary>
    Fp32 = 0,
    /// <summary>IEEE half precision (2 bytes).</summary>
    Fp16 = 1,
    /// <summary>bfloat16 (2 bytes).</summary>
    Bf16 = 2,
    /// <summary>In a spec: bf16 when some part is quantised, fp32 otherwise (a plan never holds it).</summary>
    Auto = 3,
}

/// <summary>How the integer codes of quantised weights are found.</summary>
public enum Quantizer
{
    /// <summary>Quantisation-aware training: the weights are fake-quantised in every forward pass, and the artifact stores the grid they trained on (round to nearest, absmax scales).</summary>
    Qat = 0,
    /// <summary>After training: round to nearest, scale = max |w| of the row or group / levels.</summary>
    Absmax = 1,
    /// <summary>After training: round to nearest with the clipping (scale) of each row or group searched to minimise the squared error.</summary>
    Mse = 2,
    /// <summary>After training: GPTQ (Frantar et al. 2023) — columns quantised in order, each one's error compensated on the columns not yet quantised through the inverse Hessian of the layer's inputs on a calibration sample of the training data.</summary>
    Gptq = 3,
    /// <summary>
    /// After training: GPTQ whose scales are searched like <see cref="Mse"/>'s — each row's (or group's) clipping chosen
    /// to minimise the squared error of the weights as updated when the group starts — instead of taken at their absmax.
    /// </summary>
    GptqMse = 4,
    /// <summary>
    /// After training: round to nearest on scales learned by gradient descent — each row's (or group's) scale, from
    /// its MSE-searched value, moved to minimise the layer's output error over a calibration sample of the training
    /// data, tr(E H Eᵀ) with E the weights' error and H = Xᵀ X of the layer's inputs (a straight-through rounding, the
    /// scale's gradient through the levels as in LSQ, Esser et al. 2020) — kept only where it lowers that error.
    /// </summary>
    Learned = 5,
    /// <summary>
    /// After training: GPTQ on learned scales — each row's scale (per-row plans) learned as <see cref="Learned"/> learns
    /// it before the columns are quantised, or each group's when the group starts, on its weights as updated and its
    /// columns' block of H — instead of taken at the absmax (<see cref="Gptq"/>) or searched (<see cref="GptqMse"/>).
    /// </summary>
    GptqLearned = 6,
}

/// <summary>The levels a quantised weight takes, in units of its row's or group's scale s.</summary>
public enum QuantGrid
{
    /// <summary>Symmetric with zero: q·s for q in [−(2^(b−1) − 1), 2^(b−1) − 1] (2 bits: −s, 0, s — one code unused).</summary>
    Symmetric = 0,
    /// <summary>
    /// Stretched (ParetoQ's SEQ grid, Liu et al. 2025): (q + ½)·s for q in [−2^(b−1), 2^(b−1) − 1] — all 2^b codes used,
    /// evenly spaced, no zero level (2 bits: ±½s, ±1½s); at the same bits it has one more level than the symmetric grid.
    /// </summary>
    Stretched = 1,
}

/// <summary>Lossless compression of the whole artifact.</summary>
public enum ArtifactCompression
{
    /// <summary>None: the artifact is the safetensors file itself.</summary>
    None = 0,
    /// <summary>Zstandard (ZstdSharp.Port), level 19.</summary>
    Zstd = 1,
    /// <summary>LZMA in the .xz container (SharpCompress).</summary>
    Lzma = 2,
    /// <summary>Brotli (the base class library), quality 11.</summary>
    Brotli = 3,
    /// <summary>zlib/deflate (the base class library), smallest size.</summary>
    Deflate = 4,
}

/// <summary>
/// The precision plan of a model's artifact: bits of each part's weight matrices (0 = kept at <see cref="Others"/>),
/// the scale grouping along a matrix's columns (0 = one scale per row), the scales' and the other tensors' storage
/// types, the quantiser and the compression.
/// </summary>
public sealed record ArtifactPlan(int Attention, int Mlp, int Dense, int Head, int Embedding, int Group, StoreType Scales, StoreType Others, Quantizer Quantizer, ArtifactCompression Compression)
{
    /// <summary>Bits a part's matrices are stored at (0 = not quantised).</summary>
    public int BitsOf(TensorPart part) => part switch
    {
        TensorPart.Embedding => Embedding,
        TensorPart.Attention => Attention,
        TensorPart.Mlp => Mlp,
        TensorPart.Dense => Dense,
        TensorPart.Head => Head,
        _ => 0,
    };

    /// <summary>The levels of the quantised weights (every quantised part on the same grid).</summary>
    public QuantGrid Grid { get; init; }

    /// <summary>True when some part is quantised.</summary>
    public bool Quantizes => Attention + Mlp + Dense + Head + Embedding > 0;

    /// <summary>The bits a spec may declare.</summary>
    public static bool IsValidBits(int bits) => bits is 0 or 2 or 3 or 4 or 5 or 6 or 8;

    /// <summary>The plan of a model without quantisation: every tensor in fp32, uncompressed.</summary>
    public static readonly ArtifactPlan Full = new(0, 0, 0, 0, 0, 0, StoreType.Fp16, StoreType.Fp32, Quantizer.Qat, ArtifactCompression.None);

    /// <summary>The plan in words (reports).</summary>
    public string Describe()
    {
        if (!Quantizes)
        {
            return $"every tensor {Name(Others)}";
        }

        var parts = new List<string>();
        void Part(string name, int bits)
        {
            if (bits > 0)
            {
                parts.Add($"{name} {bits}-bit");
            }
        }

        Part("attention", Attention);
        Part("mlp", Mlp);
        Part("dense", Dense);
        Part("head", Head);
        Part("embedding", Embedding);
        return string.Join(", ", parts) + $" ({Name(Quantizer)}{(Grid == QuantGrid.Stretched ? ", stretched grid" : string.Empty)}, {(Group == 0 ? "a scale per row" : $"a scale per {Group} columns")} in {Name(Scales)}), other tensors {Name(Others)}" +
               (Compression == ArtifactCompression.None ? string.Empty : $", {Name(Compression)}-compressed");
    }

    /// <summary>The YAML name of a storage type.</summary>
    public static string Name(StoreType type) => type switch { StoreType.Fp16 => "fp16", StoreType.Bf16 => "bf16", _ => "fp32" };

    /// <summary>The YAML name of a quantiser.</summary>
    public static string Name(Quantizer q) => q switch { Quantizer.Absmax => "absmax", Quantizer.Mse => "mse", Quantizer.Gptq => "gptq", Quantizer.GptqMse => "gptq-mse", Quantizer.Learned => "learned", Quantizer.GptqLearned => "gptq-learned", _ => "qat" };

    /// <summary>Whether the quantiser needs each layer's input statistics (a calibration sample): GPTQ in every form, learned scales.</summary>
    public static bool NeedsCalibration(Quantizer q) => q is Quantizer.Gptq or Quantizer.GptqMse or Quantizer.Learned or Quantizer.GptqLearned;

    /// <summary>The YAML name of a grid.</summary>
    public static string Name(QuantGrid grid) => grid == QuantGrid.Stretched ? "stretched" : "symmetric";

    /// <summary>The YAML name of a compression.</summary>
    public static string Name(ArtifactCompression c) => c switch
    {
        ArtifactCompression.Zstd => "zstd",
        ArtifactCompression.Lzma => "lzma",
        ArtifactCompression.Brotli => "brotli",
        ArtifactCompression.Deflate => "deflate",
        _ => "none",
    };
}

/// <summary>One tensor of the artifact file, as its safetensors header describes it.</summary>
/// <param name="Name">Its name in the file.</param>
/// <param name="DType">Its safetensors dtype.</param>
/// <param name="Shape">Its shape in the file.</param>
/// <param name="Bytes">Its bytes.</param>
/// <param name="Source">The parameter it stores (null for the architecture, tokenizer and scales entries).</param>
/// <param name="Bits">Bits of the codes (0 = stored as a float tensor).</param>
public sealed record StoredTensor(string Name, string DType, long[] Shape, long Bytes, ParameterTensor? Source, int Bits);

/// <summary>
/// The artifact file: a safetensors file (an 8-byte header length, a JSON header padded with spaces to a multiple of
/// 8 bytes, the tensors' bytes) holding, for every parameter in inventory order, either its integer codes bit-packed
/// at its bits (<c>NAME.q{bits}</c>, U8: code + levels, little-endian bit order, rows after rows, the last byte
/// zero-padded) followed by its scales (<c>NAME.scales</c>, one per row or per group of columns), or the tensor
/// itself at the plan's storage type; then the model's architecture JSON (<c>__architecture__</c>, UTF-8 bytes) and
/// optionally the tokenizer (<c>__tokenizer__</c>, a Hugging Face tokenizer.json); the metadata holds the format and a
/// SHA-256 of the whole file.
/// </summary>
public static class ArtifactLayout
{
    /// <summary>The metadata key of the format.</summary>
    public const string FormatKey = "format";

    /// <summary>The format's name and version.</summary>
    public const string FormatName = "slmgen-artifact/1";

    /// <summary>The metadata key of the whole-file SHA-256.</summary>
    public const string DigestKey = "sha256";

    /// <summary>The tensor holding the architecture JSON.</summary>
    public const string ArchitectureTensor = "__architecture__";

    /// <summary>The tensor holding the tokenizer.json.</summary>
    public const string TokenizerTensor = "__tokenizer__";

    /// <summary>The suffix of a quantised weight's codes.</summary>
    public static string CodesSuffix(int bits) => ".q" + bits.ToString(CultureInfo.InvariantCulture);

    /// <summary>The suffix of a quantised weight's scales.</summary>
    public const string ScalesSuffix = ".scales";

    /// <summary>The largest code of <paramref name="bits"/> bits: codes run over [−levels, levels] (stored as code + levels in [0, 2·levels]).</summary>
    public static int Levels(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>The least code of <paramref name="bits"/> bits on a grid: −levels (symmetric) or −2^(b−1) (stretched); a code is stored as code − least.</summary>
    public static int MinCode(int bits, QuantGrid grid) => grid == QuantGrid.Stretched ? -(1 << (bits - 1)) : -Levels(bits);

    /// <summary>The largest code of <paramref name="bits"/> bits on a grid: levels (symmetric) or 2^(b−1) − 1 (stretched).</summary>
    public static int MaxCode(int bits, QuantGrid grid) => grid == QuantGrid.Stretched ? (1 << (bits - 1)) - 1 : Levels(bits);

    /// <summary>The largest level in units of the scale: levels (symmetric) or 2^(b−1) − ½ (stretched); absmax scales put it at max |w|.</summary>
    public static double TopLevel(int bits, QuantGrid grid) => grid == QuantGrid.Stretched ? (1 << (bits - 1)) - 0.5 : Levels(bits);

    /// <summary>What a code stands for in units of the scale: the code (symmetric) or the code + ½ (stretched).</summary>
    public static double CodeShift(QuantGrid grid) => grid == QuantGrid.Stretched ? 0.5 : 0;

    /// <summary>Bytes of <paramref name="codes"/> codes packed at <paramref name="bits"/> bits.</summary>
    public static long PackedBytes(long codes, int bits) => checked(((codes * bits) + 7) / 8);

    /// <summary>Scale groups in a row of <paramref name="columns"/> at group size <paramref name="group"/> (0 = one per row; the last group of a row may be partial).</summary>
    public static long GroupsPerRow(long columns, int group) => group <= 0 ? 1 : (columns + group - 1) / group;

    /// <summary>Bytes of one element of a storage type.</summary>
    public static int SizeOf(StoreType type) => type == StoreType.Fp32 ? 4 : 2;

    /// <summary>The safetensors dtype of a storage type.</summary>
    public static string DTypeOf(StoreType type) => type switch { StoreType.Fp16 => "F16", StoreType.Bf16 => "BF16", _ => "F32" };

    /// <summary>The bits <paramref name="tensor"/> is stored at under <paramref name="plan"/> (0 = a float tensor).</summary>
    public static int BitsOf(ParameterTensor tensor, ArtifactPlan plan) => tensor.IsMatrix ? plan.BitsOf(tensor.Part) : 0;

    /// <summary>The stored tensors of the parameters (codes and scales, or the tensor at the plan's type), in inventory order.</summary>
    public static List<StoredTensor> Weights(IEnumerable<ParameterTensor> inventory, ArtifactPlan plan)
    {
        var list = new List<StoredTensor>();
        foreach (var p in inventory)
        {
            var bits = BitsOf(p, plan);
            if (bits > 0)
            {
                var packed = PackedBytes(p.Elements, bits);
                list.Add(new StoredTensor(p.Name + CodesSuffix(bits), "U8", new[] { packed }, packed, p, bits));
                var groups = GroupsPerRow(p.Columns, plan.Group);
                var scaleShape = plan.Group <= 0 ? new[] { p.Rows } : new[] { p.Rows, groups };
                list.Add(new StoredTensor(p.Name + ScalesSuffix, DTypeOf(plan.Scales), scaleShape, checked(p.Rows * groups * SizeOf(plan.Scales)), null, 0));
            }
            else
            {
                list.Add(new StoredTensor(p.Name, DTypeOf(plan.Others), p.Shape, checked(p.Elements * SizeOf(plan.Others)), p, 0));
            }
        }

        return list;
    }

    /// <summary>Every stored tensor of the file: the weights, the architecture JSON of <paramref name="architectureBytes"/> bytes, and the tokenizer when <paramref name="tokenizerBytes"/> is not negative.</summary>
    public static List<StoredTensor> Tensors(IEnumerable<ParameterTensor> inventory, ArtifactPlan plan, long architectureBytes, long tokenizerBytes)
    {
        var list = Weights(inventory, plan);
        list.Add(new StoredTensor(ArchitectureTensor, "U8", new[] { architectureBytes }, architectureBytes, null, 0));
        if (tokenizerBytes >= 0)
        {
            list.Add(new StoredTensor(TokenizerTensor, "U8", new[] { tokenizerBytes }, tokenizerBytes, null, 0));
        }

        return list;
    }

    /// <summary>The metadata the file holds (the digest as the 64 zeros it is sized with).</summary>
    public static SortedDictionary<string, string> Metadata() => new(StringComparer.Ordinal)
    {
        [FormatKey] = FormatName,
        [DigestKey] = new string('0', 64),
    };

    /// <summary>
    /// Bytes of the JSON header as System.Text.Json's Utf8JsonWriter writes it (compact, default escaping), padded
    /// with spaces to a multiple of 8 — the header SlmGen's safetensors writer writes for these tensors and metadata.
    /// </summary>
    public static long HeaderBytes(IReadOnlyList<StoredTensor> tensors, IDictionary<string, string> metadata)
    {
        checked
        {
            long n = 2; // { }
            var items = 0;
            if (metadata.Count > 0)
            {
                n += JsonString("__metadata__") + 1 + 2; // "__metadata__":{ }
                var first = true;
                foreach (var kv in metadata)
                {
                    n += (first ? 0 : 1) + JsonString(kv.Key) + 1 + JsonString(kv.Value);
                    first = false;
                }

                items++;
            }

            long offset = 0;
            foreach (var t in tensors)
            {
                n += (items > 0 ? 1 : 0) + JsonString(t.Name) + 1 + 2; // ,"name":{ }
                n += JsonString("dtype") + 1 + JsonString(t.DType) + 1; // "dtype":"U8",
                n += JsonString("shape") + 1 + 2 + (t.Shape.Length > 1 ? t.Shape.Length - 1 : 0); // "shape":[a,b]
                foreach (var d in t.Shape)
                {
                    n += Digits(d);
                }

                n += 1 + JsonString("data_offsets") + 1 + 2 + 1 + Digits(offset) + Digits(offset + t.Bytes); // ,"data_offsets":[x,y]
                offset += t.Bytes;
                items++;
            }

            return (n + 7) / 8 * 8;
        }
    }

    /// <summary>The file's bytes: the 8-byte length, the header, every tensor.</summary>
    public static long FileBytes(IReadOnlyList<StoredTensor> tensors)
    {
        checked
        {
            long data = 0;
            foreach (var t in tensors)
            {
                data += t.Bytes;
            }

            return 8 + HeaderBytes(tensors, Metadata()) + data;
        }
    }

    /// <summary>Bytes of a JSON string literal (quotes included) as the default encoder of System.Text.Json escapes it.</summary>
    public static long JsonString(string s)
    {
        long n = 2;
        foreach (var c in s)
        {
            n += c switch
            {
                '"' or '\\' or '\b' or '\f' or '\n' or '\r' or '\t' => 2,
                '&' or '\'' or '<' or '>' or '+' or '`' => 6,
                _ when c < 0x20 || c > 0x7E => 6,
                _ => 1,
            };
        }

        return n;
    }

    /// <summary>Decimal digits of a non-negative number.</summary>
    public static int Digits(long value)
    {
        var digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }
}
