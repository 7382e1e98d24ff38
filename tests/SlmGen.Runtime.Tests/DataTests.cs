using System;
using System.IO;
using System.Linq;
using SlmGen.Data;

namespace SlmGen.Runtime.Tests;

/// <summary>The loaders reproduce the splits and vocabularies people compare against.</summary>
[HoldTensors]
public class DataTests
{
    [Fact]
    public void Tiny_shakespeare_study_split_matches_the_study()
    {
        var d = Corpora.TinyShakespeare(CharSplit.Study);
        Assert.Equal(65, d.VocabSize);
        Assert.Equal((892_117, 111_669, 111_606), (d.Train.Length, d.Validation.Length, d.Test.Length));
    }

    [Fact]
    public void Tiny_shakespeare_nanogpt_split_is_90_10()
    {
        var d = Corpora.TinyShakespeare(CharSplit.NanoGpt);
        Assert.Equal(65, d.VocabSize);
        Assert.Equal((1_003_854, 111_540), (d.Train.Length, d.Validation.Length));
        Assert.Equal("First Citizen", d.Tokenizer.Decode(d.Train.Take(13)));
    }

    [Fact]
    public void Penn_treebank_standard_vocabulary_and_token_counts()
    {
        var d = Corpora.PennTreebank(WordVocabulary.StandardEndOfLine);
        Assert.Equal(10_000, d.VocabSize);
        Assert.Equal((929_589, 73_760, 82_430), (d.Train.Length, d.Validation.Length, d.Test.Length));
    }

    [Fact]
    public void Wikitext2_standard_vocabulary_and_token_counts()
    {
        var d = Corpora.WikiText2(WordVocabulary.StandardEndOfLine);
        Assert.Equal(33_278, d.VocabSize);
        Assert.Equal((2_088_628, 217_646, 245_569), (d.Train.Length, d.Validation.Length, d.Test.Length));
    }

    [Fact]
    public void The_study_word_vocabularies_are_a_whitespace_split_without_end_of_line()
    {
        var ptb = Corpora.PennTreebank(WordVocabulary.StudyWhitespace);
        var wt2 = Corpora.WikiText2(WordVocabulary.StudyWhitespace);
        Assert.Equal(9_999, ptb.VocabSize);
        Assert.Equal(33_277, wt2.VocabSize);
        Assert.Equal(929_589 - 42_068, ptb.Train.Length);
        Assert.DoesNotContain(WordTokenizer.EndOfLine, ((WordTokenizer)ptb.Tokenizer).Decode(ptb.Train.Take(100)).Split(' '));
    }

    [Fact]
    public void The_help_text_of_the_corpora_names_every_corpus_a_user_is_shown()
    {
        var described = Corpora.Described.Split(", ").Select(part => part.Split(' ')[0]).ToList();
        Assert.Equal(Corpora.NameList.Split(", "), described);
    }

    [Fact]
    public void The_study_word_models_train_on_the_study_corpora_by_name_and_the_eos_corpora_say_so()
    {
        var assembly = typeof(SlmGen.Samples.BabyGpt).Assembly;
        foreach (var (model, name) in new[] { ("SlmGen.Samples.WordTransformerPtb", "ptb"), ("SlmGen.Samples.WordTransformerWikiText2", "wikitext2") })
        {
            var study = Corpora.Named(name + "-study");
            var eos = Corpora.Named(name);
            using var m = SlmGen.ModelCatalog.Find(assembly, model).Create();
            Assert.Equal(m.DeclaredVocab, study.VocabSize);                 // specs/study declares the study's vocabulary
            Assert.Equal(m.DeclaredVocab + 1, eos.VocabSize);              // the standard one adds <eos>
            Assert.Equal(Corpora.Text(name).Train, Corpora.Text(name + "-study").Train);
            Assert.Contains(name + "-study", Corpora.Names);

            var options = new SlmGen.Training.TrainingOptions { Steps = 1, BatchSize = 1 };
            var ex = Assert.Throws<ArgumentException>(() => new SlmGen.Training.Trainer(m, eos, options, TorchSharp.torch.CPU));
            Assert.Contains("end-of-line token", ex.Message);             // the mismatch names the corpus that fits
            Assert.Contains(name + "-study", ex.Message);
        }
    }

    [Fact]
    public void A_missing_data_file_names_the_file_and_the_expected_checksum()
    {
        var root = Directory.CreateTempSubdirectory("slmgen-data-").FullName;
        var ex = Assert.Throws<InvalidDataException>(() => Corpora.TinyShakespeare(CharSplit.Study, root));
        Assert.Contains(Path.Combine(root, "tinyshakespeare/input.txt"), ex.Message);
        Assert.Contains("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", ex.Message);
        Assert.Contains("missing", ex.Message);
    }

    [Fact]
    public void A_corrupted_data_file_is_refused_with_both_checksums()
    {
        var root = Directory.CreateTempSubdirectory("slmgen-data-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "tinyshakespeare"));
        var original = File.ReadAllText(Path.Combine(DataFiles.Root(), "tinyshakespeare", "input.txt"));
        File.WriteAllText(Path.Combine(root, "tinyshakespeare", "input.txt"), original.Replace("Citizen", "Citizne"));
        var ex = Assert.Throws<InvalidDataException>(() => Corpora.TinyShakespeare(CharSplit.Study, root));
        Assert.Contains("corrupted", ex.Message);
        Assert.Contains("expected 86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", ex.Message);
    }

    [Fact]
    public void Word_tokenizer_round_trips_and_maps_unknown_words()
    {
        var t = new WordTokenizer("the cat sat\n<unk> the mat\n", endOfLine: true);
        Assert.Equal(6, t.VocabSize); // the cat sat <eos> <unk> mat
        var ids = t.Encode("the dog sat\n");
        Assert.Equal("the <unk> sat\n", t.Decode(ids));

        // Only a real line end is <eos>: a prompt without one ends with its last word.
        Assert.Equal(new[] { 0, 1 }, t.Encode("the cat"));
        Assert.Equal(new[] { 0, 3, 1 }, t.Encode("the\ncat"));
    }

    [Fact]
    public void A_user_tokenizer_plugs_into_a_dataset()
    {
        ITokenizer tokenizer = new CharTokenizer("abcab");
        var dataset = new TokenDataset("mine", tokenizer, tokenizer.Encode("abcabcabc"), tokenizer.Encode("abc"), tokenizer.Encode("cab"));
        Assert.Equal(3, dataset.VocabSize);
        Assert.Equal("cab", tokenizer.Decode(dataset[Split.Test]));
    }
}
