using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;

namespace SlmGen.Data;

/// <summary>
/// The data files SlmGen knows, with their SHA-256 (data/README.md gives sources and licences). Files are
/// read from the repository's data/ folder; nothing is downloaded.
/// </summary>
public static class DataFiles
{
    /// <summary>Expected SHA-256 by path relative to the data folder.</summary>
    public static IReadOnlyDictionary<string, string> Checksums { get; } = new Dictionary<string, string>
    {
        ["tinyshakespeare/input.txt"] = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        ["ptb/train.txt"] = "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        ["ptb/valid.txt"] = "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        ["ptb/test.txt"] = "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
        ["wikitext-2/train.txt"] = "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
        ["wikitext-2/valid.txt"] = "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
        ["wikitext-2/test.txt"] = "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
    };

    /// <summary>
    /// The data folder: SLMGEN_DATA if set, else the first <c>data/</c> folder holding a README.md found
    /// walking up from the application and from the working directory.
    /// </summary>
    public static string Root()
    {
        var fromEnv = Environment.GetEnvironmentVariable("SLMGEN_DATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "data");
                if (File.Exists(Path.Combine(candidate, "README.md")) && Directory.Exists(Path.Combine(candidate, "tinyshakespeare")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            "SlmGen's data folder was not found above " + AppContext.BaseDirectory + " or " + Directory.GetCurrentDirectory() +
            ". Run from the repository, or set SLMGEN_DATA to the folder that holds tinyshakespeare/, ptb/ and wikitext-2/.");
    }

    /// <summary>Reads a known data file after checking that it exists and has the expected checksum.</summary>
    /// <exception cref="InvalidDataException">The file is missing or its content differs.</exception>
    public static string ReadVerified(string relativePath, string? root = null)
    {
        root ??= Root();
        var path = Path.Combine(root, relativePath);
        if (!Checksums.TryGetValue(relativePath, out var expected))
        {
            throw new ArgumentException($"'{relativePath}' is not a known SlmGen data file.", nameof(relativePath));
        }

        if (!File.Exists(path))
        {
            throw new InvalidDataException(
                $"Data file {path} is missing (expected SHA-256 {expected}). Restore it from the repository (git checkout -- data/) — SlmGen downloads nothing.");
        }

        var bytes = File.ReadAllBytes(path);
        var actual = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        if (actual != expected)
        {
            throw new InvalidDataException(
                $"Data file {path} is corrupted: its SHA-256 is {actual}, expected {expected}. Restore it from the repository (git checkout -- data/).");
        }

        return System.Text.Encoding.UTF8.GetString(bytes);
    }
}
