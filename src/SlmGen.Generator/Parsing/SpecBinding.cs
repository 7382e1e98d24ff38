using SlmGen.Generator.Model;
using T = SlmGen.Generator.Model.SettingsTable;

namespace SlmGen.Generator.Parsing;

/// <summary>
/// The one binding of a section's settings to its spec record, shared by the attribute reader and the YAML reader:
/// a setting added to <see cref="SettingsTable"/> is read by both front-ends from its declaration and lands here.
/// </summary>
internal static class SpecBinding
{
    public static HeadSpec Head(SectionValues v) =>
        new HeadSpec(v.Bool(T.HeadTied), v.Bool(T.HeadBias), v.Int(T.HeadRank)) { Groups = v.Int(T.HeadGroups), SoftCap = v.Double(T.HeadSoftCap), Conditioned = v.Bool(T.HeadConditioned) };

    public static QuantSpec Quantization(SectionValues v) =>
        new QuantSpec(v.Int(T.QuantAttention), v.Int(T.QuantMlp), v.Int(T.QuantDense), v.Int(T.QuantHead), v.Int(T.QuantEmbedding))
        {
            Group = v.Int(T.QuantGroup),
            Scales = (StoreType)v.Int(T.QuantScales),
            Others = (StoreType)v.Int(T.QuantOthers),
            Method = (Quantizer)v.Int(T.QuantMethod),
            Compression = (ArtifactCompression)v.Int(T.QuantCompression),
            Grid = (QuantGrid)v.Int(T.QuantGrid),
        };

    public static BudgetSpec Budget(SectionValues v) =>
        new BudgetSpec(v.Long(T.MaxParameters), v.Long(T.MaxForwardFlops), v.Double(T.MaxTrainingFlops), v.Long(T.TrainingTokens), v.Long(T.MaxWeightBytes), v.Long(T.MaxKvCacheBytes))
        {
            TrainingCharacters = v.Long(T.TrainingCharacters),
            CharactersPerToken = v.Double(T.CharactersPerToken),
            MaxArtifactBytes = v.Long(T.MaxArtifactBytes),
            MaxTrainingSeconds = DurationText.Seconds(v.Raw(T.MaxTrainingTime) as string),
            MaxDecodeSeconds = DurationText.Seconds(v.Raw(T.MaxDecodeLatency) as string),
        };

    public static DenseSpec Dense(int index, SectionValues v) =>
        new DenseSpec(index, v.Int(T.Units), (Act)v.Int(T.DenseActivation), v.Bool(T.DenseBias), v.Double(T.DenseDropout));

    public static TransformerSpec Transformer(int index, SectionValues v) =>
        new TransformerSpec(
            index,
            v.Int(T.BlockCount),
            v.Int(T.Repeat),
            v.Int(T.Heads),
            v.Int(T.KvHeads),
            v.Int(T.HeadDim),
            v.Int(T.FfnHidden),
            v.Double(T.FfnMultiplier),
            (Act)v.Int(T.BlockActivation),
            (NormKind)v.Int(T.Norm),
            v.Bool(T.NormBias),
            v.Bool(T.PreNorm),
            v.Bool(T.PackedQkv),
            v.Bool(T.AttentionBias),
            v.Bool(T.FfnBias),
            v.Double(T.BlockDropout),
            v.Double(T.FfnDropout),
            v.Int(T.BlockRepeat),
            v.Int(T.LoraRank),
            new BlockAllocation(
                v.Ints(T.HeadsPerBlock),
                v.Ints(T.KvHeadsPerBlock),
                v.Ints(T.FfnHiddenPerBlock),
                v.Doubles(T.FfnMultiplierPerBlock),
                v.Int(T.HeadsLast),
                v.Int(T.KvHeadsLast),
                v.Int(T.FfnHiddenLast),
                v.Double(T.FfnMultiplierLast)))
        {
            AttentionOptions = AttentionConfig.Blank with
            {
                QkNorm = v.Bool(T.QkNorm),
                QkNormFree = !v.Bool(T.QkNormWeight),
                QueryGain = v.Double(T.QueryGain),
                ValueResidual = v.Bool(T.ValueResidual),
                RopeDims = v.Int(T.RopeDims),
            },
            BlockOptions = BlockConfig.Blank with { BranchScales = v.Bool(T.BranchScales), ResidualMix = v.Bool(T.ResidualMix), Parallel = v.Bool(T.Parallel), DepthScaledNorms = v.Bool(T.DepthScaledNorms) },
            UNetSkips = v.Bool(T.UNetSkips),
        };
}
