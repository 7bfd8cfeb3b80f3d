#!/usr/bin/perl
# Writes a small MaxMind-format country database for the dashboard test:
# make_mmdb.pl OUT CIDR=CC [CIDR=CC ...]. Uses Debian's
# libmaxmind-db-writer-perl; the TEST-NET ranges it is given are reserved,
# so reserved networks are allowed in explicitly.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, @pairs) = @ARGV;
die "usage: make_mmdb.pl OUT CIDR=CC...\n" unless $out && @pairs;
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'kizuki-test-country',
    languages             => ['en'],
    description           => { en => 'kizuki dashboard test' },
    remove_reserved_networks => 0,
    map_key_type_callback => sub {
        my $k = shift;
        return { country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string' }->{$k};
    },
);
for my $p (@pairs) {
    my ($cidr, $cc) = split /=/, $p, 2;
    $tree->insert_network($cidr, { country => { iso_code => $cc, names => { en => $cc } } });
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
