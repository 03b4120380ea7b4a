.class public Lorg/example/weather/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: ordinary weather app (benign reference).

.field public static final FORECAST_API:Ljava/lang/String; = "https://api.open-meteo.com/v1/forecast"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static params()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x5
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "latitude"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "longitude"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "hourly=temperature_2m"
    aput-object v2, v0, v1
    const/16 v1, 0x3
    const-string v2, "今日天气"
    aput-object v2, v0, v1
    const/16 v1, 0x4
    const-string v2, "未来七天"
    aput-object v2, v0, v1
    return-object v0
.end method
