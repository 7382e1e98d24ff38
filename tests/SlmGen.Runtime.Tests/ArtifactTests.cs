using System;
using System.IO;
using System.Linq;
using SlmGen.Artifacts;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The artifact's parts on real tensors: bit packing at every width, the quantisers (MSE-searched clipping never worse
/// than absmax; GPTQ's output error below round-to-nearest's on correlated inputs), group scales, and a reader that
/// refuses every damaged, truncated, foreign or mismatched file with its path.
/// </summary>
public class ArtifactTests
{
    private static ModelDescriptor Find(string name) => ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + name);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(8)]
    public void Codes_pack_to_their_bits_and_back(int bits)
    {
        var rng = new Random(bits);
        var levels = ArtifactLayout.Levels(bits);
        foreach (var count in new[] { 0, 1, 7, 8, 9, 1000, 4097 })
        {
            var codes = Enumerable.Range(0, count).Select(_ => (sbyte)rng.Next(-levels, levels + 1)).ToArray();
            var packed = BitPacking.Pack(codes, bits);
            Assert.Equal(ArtifactLayout.PackedBytes(count, bits), packed.Length);
            Assert.Equal(codes, BitPacking.Unpack(packed, count, bits, "test"));
        }

        // A code beyond the grid, and a set padding bit, are damage.
        Assert.Throws<ArgumentOutOfRangeException>(() => BitPacking.Pack(new[] { (sbyte)(levels + 1) }, bits));
        var one = BitPacking.Pack(new sbyte[] { 0 }, bits);
        if (bits < 8)
        {
            one[0] |= 0x80;
            Assert.Throws<InvalidDataException>(() => BitPacking.Unpack(one, 1, bits, "test"));
        }
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(3, 16)]
    [InlineData(4, 7)]
    [InlineData(6, 64)]
    public void Searched_clipping_is_never_worse_than_absmax_and_usually_better(int bits, int group)
    {
        manual_seed(11);
        var w = randn(48, 100) * (rand(48, 1) + 0.1); // rows of different scales, heavy tails from randn
        using var absmax = WeightQuantizer.Quantize(w, bits, group, StoreType.Fp32, Quantizer.Absmax);
        using var mse = WeightQuantizer.Quantize(w, bits, group, StoreType.Fp32, Quantizer.Mse);
        var absmaxError = (w - FakeQuant.Dequantize(absmax.Codes, absmax.Scales, group)).square().sum(new long[] { 1 });
        var mseError = (w - FakeQuant.Dequantize(mse.Codes, mse.Scales, group)).square().sum(new long[] { 1 });
        Assert.True((mseError <= absmaxError + 1e-6).all().item<bool>(), "a row got worse with the searched clipping");
        Assert.True(mseError.sum().item<float>() < 0.97f * absmaxError.sum().item<float>(), $"{mseError.sum().item<float>()} vs {absmaxError.sum().item<float>()}");
        Assert.Equal(new long[] { 48, ArtifactLayout.GroupsPerRow(100, group) }, absmax.Scales.shape);
        Assert.True(absmax.Codes.abs().max().item<sbyte>() == ArtifactLayout.Levels(bits), "absmax puts every row's (group's) largest weight on the last level");
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 32)]
    public void Gptq_leaves_less_output_error_than_rounding_to_nearest(int bits, int group)
    {
        manual_seed(3);
        // Correlated inputs (a low-rank mix plus noise), as a layer's inputs are.
        var x = randn(2048, 16).matmul(randn(16, 96)) + (0.1 * randn(2048, 96));
        var w = randn(64, 96) * 0.1;
        var hessian = x.mT.matmul(x);
        using var rtn = WeightQuantizer.Quantize(w, bits, group, StoreType.Fp16, Quantizer.Absmax);
        using var gptq = WeightQuantizer.Quantize(w, bits, group, StoreType.Fp16, Quantizer.Gptq, hessian);
        var y = x.matmul(w.mT);
        var rtnError = (y - x.matmul(FakeQuant.Dequantize(rtn.Codes, rtn.Scales, group).mT)).square().sum().item<float>();
        var gptqError = (y - x.matmul(FakeQuant.Dequantize(gptq.Codes, gptq.Scales, group).mT)).square().sum().item<float>();
        Assert.True(gptqError < 0.8f * rtnError, $"GPTQ {gptqError} vs RTN {rtnError}");
        Assert.True(gptq.Codes.abs().max().item<sbyte>() <= ArtifactLayout.Levels(bits));
        Assert.True(gptq.Scales.to(ScalarType.Float16).to(ScalarType.Float32).equal(gptq.Scales).all().item<bool>(), "scales are on their storage type's grid");
    }

    [Fact]
    public void A_qat_model_ships_the_grid_it_trained_on()
    {
        using var model = Find("LeverQat").Create();
        model.eval();
        using var idx = randint(0, model.Vocab, new long[] { 2, 16 }, dtype: ScalarType.Int64);
        using var before = model.Logits(idx, lastPositionOnly: false);
        var (data, predicted) = ArtifactFile.Encode(model);
        Assert.Equal(model.Cost.ArtifactBytes, data.Length);
        Assert.Equal(predicted, data.Length);
        ArtifactFile.RoundTrip(model);
        Assert.False(model.FakeQuantEnabled); // restored weights are on their grid already
        using var after = model.Logits(idx, lastPositionOnly: false);

        // The weights differ from the trained grid by fp16 rounding of the scales and bf16 of the norms only.
        var difference = (after - before).abs().max().item<float>();
        Assert.True(difference < 0.05f * before.abs().max().item<float>(), $"max logit difference {difference}");
    }

    [Fact]
    public void Damaged_foreign_and_mismatched_artifacts_are_refused_with_their_path()
    {
        var dir = Directory.CreateTempSubdirectory("slmgen-artifact-").FullName;
        using var model = Find("LeverQat").Create();
        var path = Path.Combine(dir, "m.slmq");
        ArtifactFile.Write(model, path, new ArtifactOptions { TokenizerJson = "{\"model\":{}}" });
        var good = File.ReadAllBytes(path);

        void Refused(string name, byte[] bytes, SlmModel? into = null)
        {
            var file = Path.Combine(dir, name);
            File.WriteAllBytes(file, bytes);
            using var target = into ?? Find("LeverQat").Create();
            var e = Assert.Throws<InvalidDataException>(() => ArtifactFile.Load(target, file));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
        }

        // Every byte region: header length, header, codes, scales, architecture, tokenizer, the end.
        foreach (var at in new[] { 0, 3, 9, 200, good.Length / 3, good.Length / 2, good.Length - 300, good.Length - 1 })
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= 0x41;
            Refused($"flip{at}.slmq", bad);
        }

        Refused("truncated.slmq", good[..(good.Length - 1)]);
        Refused("padded.slmq", good.Concat(new byte[] { 0 }).ToArray());
        Refused("empty.slmq", Array.Empty<byte>());
        Refused("huge-header.slmq", BitConverter.GetBytes(long.MaxValue).Concat(good[8..]).ToArray());

        // Another model's artifact, and the same architecture at another precision plan.
        using var other = Find("LeverGqa").Create();
        Refused("other-into-qat.slmq", ArtifactFile.Encode(other).Data);
        Refused("qat-into-other.slmq", good, Find("LeverGqa").Create());

        // Compressed forms: each format read back; damaged streams refused.
        foreach (var compression in new[] { ArtifactCompression.Zstd, ArtifactCompression.Lzma, ArtifactCompression.Brotli, ArtifactCompression.Deflate })
        {
            var file = Path.Combine(dir, $"c{compression}.slmq");
            var written = ArtifactFile.Write(model, file, new ArtifactOptions { Compression = compression });
            Assert.True(written.FileBytes < written.Bytes, $"{compression}: {written.FileBytes} of {written.Bytes}");
            using var target = Find("LeverQat").Create();
            Assert.Equal(compression, ArtifactFile.Load(target, file).Compression);
            var bytes = File.ReadAllBytes(file);
            bytes[bytes.Length / 2] ^= 0x5A;
            Refused($"c{compression}-damaged.slmq", bytes);
            Refused($"c{compression}-truncated.slmq", File.ReadAllBytes(file)[..(bytes.Length / 2)]);
        }

        // Not a regular file.
        using var fifoTarget = Find("LeverQat").Create();
        Assert.ThrowsAny<Exception>(() => ArtifactFile.Load(fifoTarget, dir));
    }

    [Fact]
    public void Gptq_artifacts_need_and_use_calibration_statistics()
    {
        using var model = Find("LeverGqa").Create();
        using var windows = randint(0, model.Vocab, new long[] { 6, model.Context }, dtype: ScalarType.Int64);
        var hessians = Calibration.Hessians(model, windows, batch: 4);
        var linear = ArtifactFile.Inventory(model).Where(p => p.IsMatrix && p.Part is TensorPart.Attention or TensorPart.Mlp).ToList();
        Assert.All(linear, p => Assert.True(hessians.ContainsKey(p.Name), $"{p.Name} has no statistics"));
        Assert.All(linear, p => Assert.Equal(new[] { p.Columns, p.Columns }, hessians[p.Name].shape));
    }
}
