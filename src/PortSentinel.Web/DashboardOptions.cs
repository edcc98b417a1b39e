using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PortSentinel.Web;

/// <summary>
/// How the dashboard is served and guarded. Bound from the <c>Dashboard</c> section; every key
/// has a default, and <see cref="Validate"/> names the key that is wrong.
/// </summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>Where to listen, separated by ';'. Loopback only unless told otherwise; an https:// address needs <see cref="CertificateFile"/>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5000";

    /// <summary>A PEM certificate (chain) for https:// addresses.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The certificate's PEM private key, when not in <see cref="CertificateFile"/>.</summary>
    public string? CertificateKeyFile { get; set; }

    /// <summary>Failed logins in a row that lock an account.</summary>
    public int LockoutFailures { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public int LockoutMinutes { get; set; } = 15;

    /// <summary>Login attempts allowed per client address per minute, whatever the account.</summary>
    public int LoginsPerMinute { get; set; } = 10;

    /// <summary>How long a session lasts without use.</summary>
    public int SessionHours { get; set; } = 12;

    /// <summary>Events a live page may have queued before the oldest are dropped (and counted).</summary>
    public int LiveQueue { get; set; } = 10_000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string key, string fix)
        {
            if (!ok)
            {
                errors.Add($"{Section}:{key} {fix}");
            }
        }
        string[] urls = Addresses();
        Check(urls.Length > 0, nameof(Urls), "is empty; give e.g. http://127.0.0.1:5000.");
        foreach (string url in urls)
        {
            bool valid = Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https";
            Check(valid, nameof(Urls), $"has \"{url}\"; give http:// or https:// addresses with a port, e.g. http://127.0.0.1:5000.");
            Check(!valid || uri!.Scheme == "http" || CertificateFile is not null, nameof(CertificateFile), $"is needed for {url}: give a PEM certificate (and {nameof(CertificateKeyFile)}).");
        }
        Check(CertificateFile is null || File.Exists(CertificateFile), nameof(CertificateFile), $"is \"{CertificateFile}\", which does not exist.");
        Check(CertificateKeyFile is null || File.Exists(CertificateKeyFile), nameof(CertificateKeyFile), $"is \"{CertificateKeyFile}\", which does not exist.");
        if (CertificateFile is not null && File.Exists(CertificateFile) && (CertificateKeyFile is null || File.Exists(CertificateKeyFile))
            && CertificateProblem() is { } problem)
        {
            errors.Add(problem);
        }
        Check(LockoutFailures is >= 1 and <= 100, nameof(LockoutFailures), $"is {LockoutFailures}; give 1 to 100.");
        Check(LockoutMinutes is >= 1 and <= 1440, nameof(LockoutMinutes), $"is {LockoutMinutes}; give 1 to 1440.");
        Check(LoginsPerMinute is >= 1 and <= 10_000, nameof(LoginsPerMinute), $"is {LoginsPerMinute}; give 1 to 10000.");
        Check(SessionHours is >= 1 and <= 720, nameof(SessionHours), $"is {SessionHours}; give 1 to 720.");
        Check(LiveQueue is >= 100 and <= 1_000_000, nameof(LiveQueue), $"is {LiveQueue}; give 100 to 1000000.");
        return errors;
    }

    /// <summary>
    /// The certificate and key, as Kestrel will load them (<see cref="X509Certificate2.CreateFromPemFile"/>):
    /// null when they load, else what is wrong, naming the key, the file and the fix.
    /// </summary>
    private string? CertificateProblem()
    {
        try
        {
            using X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(CertificateFile!, CertificateKeyFile);
            return certificate.HasPrivateKey
                ? null
                : $"{Section}:{nameof(CertificateFile)} is \"{CertificateFile}\", whose certificate comes without its private key; give the key in the file or in {Section}:{nameof(CertificateKeyFile)}.";
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            string files = CertificateKeyFile is null ? $"\"{CertificateFile}\"" : $"\"{CertificateFile}\" (key: {Section}:{nameof(CertificateKeyFile)} \"{CertificateKeyFile}\")";
            return $"{Section}:{nameof(CertificateFile)} is {files}, which holds no usable certificate and private key ({e.Message.TrimEnd('.')}); "
                + $"give a PEM certificate (-----BEGIN CERTIFICATE-----, the chain after it) with its PEM private key in the same file or in {Section}:{nameof(CertificateKeyFile)}, e.g. from certbot's fullchain.pem and privkey.pem.";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{Section}:{nameof(CertificateFile)} is \"{CertificateFile}\", which cannot be read ({e.Message.TrimEnd('.')}); make it and {nameof(CertificateKeyFile)} readable by the sensor's user.";
        }
    }

    public string[] Addresses() => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
