using System;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO;
using System.Security.Cryptography;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// The access tokens the token endpoint has issued and until when each is good. Every issued token is logged as
/// <c>TOKEN issued=&lt;value&gt; client=&lt;client_id&gt; expires_in=&lt;s&gt;</c> so tests can search their own
/// output for it: this is a test gateway, and proving that a client never shows a token needs the token.
/// </summary>
internal sealed class IssuedTokens
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _expiries = new(StringComparer.Ordinal);
    private readonly TextWriter _output;

    public IssuedTokens(TextWriter output, int lifetimeSeconds)
    {
        _output = output;
        LifetimeSeconds = lifetimeSeconds;
    }

    public int LifetimeSeconds { get; }

    public string Issue(string clientId)
    {
        string token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        _expiries[token] = DateTimeOffset.UtcNow.AddSeconds(LifetimeSeconds);
        _output.WriteLine($"TOKEN issued={token} client={ClientIdentity.ForLog(clientId)} " +
            $"expires_in={LifetimeSeconds}");
        return token;
    }

    /// <summary>Whether <paramref name="token"/> was issued here and has not expired.</summary>
    public bool IsValid(string? token) =>
        token is not null && _expiries.TryGetValue(token, out DateTimeOffset expiry)
        && DateTimeOffset.UtcNow < expiry;

    /// <summary>Makes every token issued so far expired, as if its lifetime had run out.</summary>
    public void ExpireAll()
    {
        foreach (string token in _expiries.Keys)
        {
            _expiries[token] = DateTimeOffset.MinValue;
        }

        _output.WriteLine("TOKENS expired");
    }
}
