using System;
using Xunit;

namespace StitchMtls.Tests;

public class CsrSubjectTests
{
    // DER of the subject `openssl req -subj "/C=ZA/O=Example Ltd/CN=stitch-prod.example.com"` writes under
    // Debian's default openssl.cnf (string_mask = utf8only): PrintableString C, UTF8String O and CN.
    private const string OpenSslSubjectDer = "3045310B3009060355040613025A4131143012060355040A0C0B4578616D706C65204C" +
        "74643120301E06035504030C177374697463682D70726F642E6578616D706C652E636F6D";

    [Fact]
    public void EncodesTheSubjectExactlyAsOpenSslReqDoes()
    {
        var subject = new CsrSubject("stitch-prod.example.com", "Example Ltd", "za");

        Assert.Equal(OpenSslSubjectDer, Convert.ToHexString(subject.ToDistinguishedName().RawData));
        Assert.Equal("ZA", subject.Country);
    }

    [Theory]
    [InlineData("stitch-prod.example.com", true)]
    [InlineData("payments-uat.example.co.za", true)]
    [InlineData("stitch.example.com", false)]
    [InlineData("stitch-prod.com", false)]
    public void RecognisesTheRecommendedForm(string commonName, bool recommended)
    {
        Assert.Equal(recommended, new CsrSubject(commonName, "Example Ltd", "ZA").FollowsRecommendedForm);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad name.example.com")]
    [InlineData("*.example.com")]
    [InlineData("localhost")]
    [InlineData("-stitch.example.com")]
    [InlineData("stitch-.example.com")]
    [InlineData("stitch..example.com")]
    [InlineData("stitch_prod.example.com")]
    [InlineData("a-very-long-name-that-goes-on-and-on-and-on.and-on-and-on.example.com")]
    public void RejectsCommonNamesThatAreNotDnsStyle(string commonName)
    {
        var error = Assert.Throws<StitchMtlsException>(() => new CsrSubject(commonName, "Example Ltd", "ZA"));

        Assert.Equal("CommonNameInvalid", error.ErrorId);
        Assert.Equal(FailureCategory.InvalidArgument, error.Category);
    }

    [Theory]
    [InlineData("Z")]
    [InlineData("ZAF")]
    [InlineData("Z1")]
    [InlineData("")]
    public void RejectsCountriesThatAreNotTwoLetters(string country)
    {
        var error = Assert.Throws<StitchMtlsException>(() => new CsrSubject("stitch-prod.example.com", "Ex", country));

        Assert.Equal("CountryInvalid", error.ErrorId);
    }

    [Fact]
    public void RejectsAnEmptyOrganization()
    {
        var error = Assert.Throws<StitchMtlsException>(() => new CsrSubject("stitch-prod.example.com", " ", "ZA"));

        Assert.Equal("OrganizationInvalid", error.ErrorId);
    }
}
